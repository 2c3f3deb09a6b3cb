//! Random notes (use with `once: true` so a value is generated once): `randomAlphanumeric`,
//! `randomHex` (n bytes as 2n hex characters), `randomBase64` (n bytes, URL-safe), and
//! Sprig's `randAlphaNum`, `randAlpha`, `randNumeric`, `uuidv4`. They draw from the operating
//! system's CSPRNG, or from a seeded sequence when the `RenderContext` has a seed (tests).

use base64::Engine as _;

use super::{Builtin, FnCx, Rng, int_arg, s};

/// The longest random string a call may ask for.
const MAX_LEN: i64 = 4096;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const DIGITS: &[u8] = b"0123456789";

pub(crate) const FUNCS: &[Builtin] = &[
    f!("randomAlphanumeric", "random", 1, 1, |a, cx| s(pick(
        cx,
        ALNUM,
        int_arg(&a, 0)
    ))),
    f!("randAlphaNum", "random", 1, 1, |a, cx| s(pick(
        cx,
        ALNUM,
        int_arg(&a, 0)
    ))),
    f!("randAlpha", "random", 1, 1, |a, cx| s(pick(
        cx,
        ALPHA,
        int_arg(&a, 0)
    ))),
    f!("randNumeric", "random", 1, 1, |a, cx| s(pick(
        cx,
        DIGITS,
        int_arg(&a, 0)
    ))),
    f!("randomHex", "random", 1, 1, |a, cx| {
        let bytes = bytes(cx.rng(), int_arg(&a, 0));
        s(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
    }),
    f!("randomBase64", "random", 1, 1, |a, cx| {
        let bytes = bytes(cx.rng(), int_arg(&a, 0));
        s(base64::engine::general_purpose::URL_SAFE.encode(bytes))
    }),
    f!("uuidv4", "random", 0, 0, |_, cx| {
        let mut b = bytes(cx.rng(), 16);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        s(format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        ))
    }),
];

fn pick(cx: &mut FnCx, alphabet: &[u8], n: i64) -> String {
    (0..n.clamp(0, MAX_LEN))
        .map(|_| alphabet[cx.rng().below(alphabet.len() as u64) as usize] as char)
        .collect()
}

fn bytes(rng: &mut Rng, n: i64) -> Vec<u8> {
    (0..n.clamp(0, MAX_LEN))
        .map(|_| rng.next_u64() as u8)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::call;
    use serde_json::json;

    #[test]
    fn random_notes_have_the_asked_length_and_alphabet_and_repeat_for_a_seed() {
        let v = call("randomAlphanumeric", &[json!(12)]).unwrap();
        let v = v.as_str().unwrap();
        assert!(v.len() == 12 && v.chars().all(|c| c.is_ascii_alphanumeric()));
        let h = call("randomHex", &[json!(8)]).unwrap();
        assert!(
            h.as_str().unwrap().chars().all(|c| c.is_ascii_hexdigit())
                && h.as_str().unwrap().len() == 16
        );
        assert_eq!(
            call("randomBase64", &[json!(3)])
                .unwrap()
                .as_str()
                .unwrap()
                .len(),
            4
        );
        assert_eq!(call("randomHex", &[json!(-1)]).unwrap(), json!(""));
        assert_eq!(
            call("randomAlphanumeric", &[json!(10_000_000)])
                .unwrap()
                .as_str()
                .unwrap()
                .len(),
            4096
        );
        // The testing helper seeds every call with the same seed.
        assert_eq!(
            call("randAlphaNum", &[json!(16)]).unwrap(),
            call("randAlphaNum", &[json!(16)]).unwrap()
        );
        let u = call("uuidv4", &[]).unwrap();
        assert_eq!(u.as_str().unwrap().len(), 36);
        assert_eq!(&u.as_str().unwrap()[14..15], "4");
    }
}
