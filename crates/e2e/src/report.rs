//! Results: PASS/FAIL/SKIP per step with its duration, a summary, and JUnit XML.

use std::fmt::Write as _;
use std::time::Duration;

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It did what it should.
    Pass,
    /// It did not (or an expectation timed out).
    Fail,
    /// It could not be run here; the detail says why. Never counts as passed.
    Skip,
}

impl Outcome {
    /// `PASS`, `FAIL` or `SKIP`.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail => "FAIL",
            Outcome::Skip => "SKIP",
        }
    }
}

/// One step: cluster, CRD, setup, operator, CR, an expectation, deletion, teardown.
#[derive(Debug, Clone)]
pub struct Step {
    /// What it was, e.g. `apply CRD` or `expect: Deployment ready`.
    pub name: String,
    /// How it ended.
    pub outcome: Outcome,
    /// How long it took.
    pub duration: Duration,
    /// Why it failed or was skipped (what was last seen), or a note.
    pub detail: Option<String>,
}

impl Step {
    /// The step as one report line (and its detail, indented, below).
    pub fn line(&self) -> String {
        let mut line = format!(
            "  {}  {} ({})",
            self.outcome.label(),
            self.name,
            seconds(self.duration)
        );
        if let Some(detail) = &self.detail {
            for l in detail.lines() {
                let _ = write!(line, "\n        {l}");
            }
        }
        line
    }
}

/// The steps of one test (one E2E file with a `spec`).
#[derive(Debug, Clone, Default)]
pub struct TestReport {
    /// `metadata.name`.
    pub name: String,
    /// The E2E file.
    pub file: String,
    /// Its steps, in order.
    pub steps: Vec<Step>,
}

impl TestReport {
    /// Steps with `outcome`.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.steps.iter().filter(|s| s.outcome == outcome).count()
    }

    /// The test's outcome: FAIL if a step failed, else SKIP if one was skipped, else PASS.
    pub fn outcome(&self) -> Outcome {
        if self.count(Outcome::Fail) > 0 {
            Outcome::Fail
        } else if self.count(Outcome::Skip) > 0 {
            Outcome::Skip
        } else {
            Outcome::Pass
        }
    }

    /// Total time of its steps.
    pub fn duration(&self) -> Duration {
        self.steps.iter().map(|s| s.duration).sum()
    }
}

/// Every test of a run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The tests, in order.
    pub tests: Vec<TestReport>,
}

impl Report {
    /// True when no step failed (skipped steps do not fail a run, but are not passes).
    pub fn passed(&self) -> bool {
        self.tests.iter().all(|t| t.count(Outcome::Fail) == 0)
    }

    /// `N passed, N failed, N skipped in Xs`.
    pub fn summary(&self) -> String {
        let count = |o| self.tests.iter().map(|t| t.count(o)).sum::<usize>();
        let total: Duration = self.tests.iter().map(TestReport::duration).sum();
        format!(
            "{} passed, {} failed, {} skipped in {}",
            count(Outcome::Pass),
            count(Outcome::Fail),
            count(Outcome::Skip),
            seconds(total)
        )
    }

    /// JUnit XML: a `testsuite` per test, a `testcase` per step.
    pub fn junit(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let count = |o| self.tests.iter().map(|t| t.count(o)).sum::<usize>();
        let total: Duration = self.tests.iter().map(TestReport::duration).sum();
        let _ = writeln!(
            out,
            "<testsuites name=\"ork e2e\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
            self.tests.iter().map(|t| t.steps.len()).sum::<usize>(),
            count(Outcome::Fail),
            count(Outcome::Skip),
            total.as_secs_f64()
        );
        for test in &self.tests {
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}\" file=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
                xml(&test.name),
                xml(&test.file),
                test.steps.len(),
                test.count(Outcome::Fail),
                test.count(Outcome::Skip),
                test.duration().as_secs_f64()
            );
            for step in &test.steps {
                let _ = write!(
                    out,
                    "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                    xml(&test.name),
                    xml(&step.name),
                    step.duration.as_secs_f64()
                );
                let detail = step.detail.as_deref().unwrap_or_default();
                match step.outcome {
                    Outcome::Pass => out.push_str("/>\n"),
                    Outcome::Fail => {
                        let first = detail.lines().next().unwrap_or("failed");
                        let _ = write!(
                            out,
                            ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                            xml(first),
                            xml(detail)
                        );
                    }
                    Outcome::Skip => {
                        let _ = write!(
                            out,
                            ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                            xml(detail)
                        );
                    }
                }
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }
}

/// `1.2s`.
pub fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

/// Escapes text for an XML attribute or element.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            c if (c as u32) < 0x20 && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}
