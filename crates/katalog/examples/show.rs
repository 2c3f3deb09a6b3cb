//! Prints the diagnostics of Katalogs (debug aid).
fn main() {
    for p in std::env::args().skip(1) {
        match katalog::load(&p) {
            Ok(l) => {
                println!("OK {p} ({} warnings)", l.warnings.len());
                for w in &l.warnings {
                    print!("{}", w.render(&l.sources));
                }
            }
            Err(d) => print!("{}", d.render()),
        }
    }
}
