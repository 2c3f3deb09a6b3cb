//! The pipeline of one test (spec §22.2): cluster → CRD → setup → gateway (when the Katalog
//! declares webhooks) → operator → `setup-complete`
//! expectations → CR → `cr-applied` expectations → CR deletion → `cr-deleted` expectations →
//! teardown. Each step is reported with its outcome and duration; an expectation is polled
//! until it passes or its timeout ends, and then names the last thing it saw.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::checks::Checker;
use crate::cluster::{Cluster, Target};
use crate::format::{Expectation, HelmRelease, OnFailure, Phase, Provider, WaitFor};
use crate::helm::{self, Helm, Installed};
use crate::kubectl::Shell;
use crate::load::{Suite, Test, parse_duration};
use crate::operator::Operator;
use crate::readiness::ready;
use crate::report::{Outcome, Report, Step, TestReport};
use crate::webhooks::Webhooks;

/// An expectation's timeout when the file gives none (upstream's default).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long applied CRDs get to become Established.
const CRD_TIMEOUT: Duration = Duration::from_secs(60);
/// How often an expectation is checked again.
const POLL: Duration = Duration::from_millis(500);
/// How often a long wait says what it is waiting for (on stderr).
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// How a run goes.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Where the tests run.
    pub target: Target,
    /// Leave a local control plane running at the end.
    pub keep_cluster: bool,
    /// Shorten the timeouts of setup waits and of every expectation before CR deletion to at
    /// most this. After
    /// it, deletion waits on the garbage collector, which notices the owners of a new CRD
    /// only at its next discovery sync (about 30 s), so `cr-deleted` keeps its own timeout.
    pub timeout_cap: Option<Duration>,
    /// After a failed step, skip the test's remaining expectations (cleanup still runs).
    pub stop_after_failure: bool,
    /// Print steps as they finish (stdout) and progress on long waits (stderr).
    pub verbose: bool,
}

/// Runs every test of `suite` and returns the report.
pub async fn run_suite(suite: &Suite, options: &Options) -> Report {
    let mut report = Report::default();
    let mut cluster: Option<Cluster> = None;
    for test in &suite.tests {
        let mut test_report = TestReport {
            name: test.name.clone(),
            file: test.file.display().to_string(),
            steps: Vec::new(),
        };
        if options.verbose {
            println!("=== {} ({})", test.name, test.file.display());
        }
        if let Some(wait) = test.wait_before {
            tokio::time::sleep(wait).await;
        }
        if test.fresh_cluster
            && let Some(old) = cluster.take()
        {
            old.finish(false);
        }
        if cluster.is_none() {
            let started = Instant::now();
            match acquire(test, options).await {
                Ok(c) => {
                    let step = Step {
                        name: "cluster".into(),
                        outcome: Outcome::Pass,
                        duration: started.elapsed(),
                        detail: Some(c.description.clone()),
                    };
                    push(&mut test_report, step, options.verbose);
                    cluster = Some(c);
                }
                Err(e) => {
                    let step = Step {
                        name: "cluster".into(),
                        outcome: Outcome::Fail,
                        duration: started.elapsed(),
                        detail: Some(e),
                    };
                    push(&mut test_report, step, options.verbose);
                    report.tests.push(test_report);
                    continue;
                }
            }
        }
        if let Some(c) = &cluster {
            TestRun::new(test, c, options, &mut test_report).run().await;
        }
        report.tests.push(test_report);
    }
    if let Some(c) = cluster
        && let Some(message) = c.finish(options.keep_cluster)
    {
        eprintln!("ork e2e: {message}");
    }
    report
}

async fn acquire(test: &Test, options: &Options) -> Result<Cluster, String> {
    match &options.target {
        Target::Kubeconfig(path) => Cluster::existing(Some(path)),
        Target::Current => Cluster::existing(None),
        Target::Context(context) => Cluster::context(context).await,
        Target::FromFile => match test.spec.cluster.as_ref().map(|c| c.provider) {
            Some(Provider::Existing) => Cluster::existing(None),
            _ => Cluster::local().await,
        },
    }
}

/// The `crdFile`s of the enabled CRDs of the Katalog at `path`, each resolved from the file
/// that names it; none when the Katalog does not load (starting the operator reports why).
fn katalog_crd_files(path: &Path) -> Vec<PathBuf> {
    let Ok(loaded) = katalog::load(path) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = Vec::new();
    for crd in loaded.katalog.enabled_crds() {
        if let Some(f) = &crd.entry.crd_file
            && let Ok(file) = katalog::resolve::resolve_path(&f.at.file, &f.value)
            && !files.contains(&file)
        {
            files.push(file);
        }
    }
    files
}

fn push(report: &mut TestReport, step: Step, verbose: bool) {
    if verbose {
        println!("{}", step.line());
    }
    report.steps.push(step);
}

/// One test on one cluster.
struct TestRun<'a> {
    test: &'a Test,
    cluster: &'a Cluster,
    options: &'a Options,
    shell: Shell,
    /// kubectl's discovery cache for this test alone (removed with it).
    _cache: Option<tempfile::TempDir>,
    report: &'a mut TestReport,
    failed: bool,
    diagnosed: bool,
    /// Helm releases `setup.helm` installed: (name, namespace), uninstalled at teardown.
    releases: Vec<(String, String)>,
}

impl<'a> TestRun<'a> {
    fn new(
        test: &'a Test,
        cluster: &'a Cluster,
        options: &'a Options,
        report: &'a mut TestReport,
    ) -> Self {
        let cache = tempfile::tempdir().ok();
        let mut shell = Shell::new(cluster.kubectl(), cluster.kubeconfig()).in_dir(&test.dir);
        if let Some(cache) = &cache {
            shell = shell.with_cache_dir(cache.path());
        }
        Self {
            test,
            cluster,
            options,
            shell,
            _cache: cache,
            report,
            failed: false,
            diagnosed: false,
            releases: Vec::new(),
        }
    }

    fn step(&mut self, name: impl Into<String>, started: Instant, result: Result<(), String>) {
        let (outcome, detail) = match result {
            Ok(()) => (Outcome::Pass, None),
            Err(e) => {
                self.failed = true;
                (Outcome::Fail, Some(e))
            }
        };
        self.record(name.into(), outcome, started.elapsed(), detail);
    }

    fn record(
        &mut self,
        name: String,
        outcome: Outcome,
        duration: Duration,
        detail: Option<String>,
    ) {
        let step = Step {
            name,
            outcome,
            duration,
            detail,
        };
        push(self.report, step, self.options.verbose);
    }

    fn paths(&self, first: &Option<String>, more: &[String]) -> Vec<PathBuf> {
        first
            .iter()
            .chain(more)
            .map(|p| self.test.dir.join(p))
            .collect()
    }

    async fn run(mut self) {
        let spec = &self.test.spec;
        let crs = self.paths(&spec.cr, &spec.cr_files);
        let mut crds = self.paths(&spec.crd, &spec.crd_files);
        let custom = spec.custom.is_some() || spec.custom_operator;
        if let (true, false, Some(katalog), false) =
            (crds.is_empty(), crs.is_empty(), &spec.katalog, custom)
        {
            // A CR step with no CRD step: the CRDs are the Katalog's `crdFile`s, applied
            // before anything else as upstream's runner does (the runtime applies them only
            // when the file has neither step).
            crds = katalog_crd_files(&self.test.dir.join(katalog));
        }

        if !crds.is_empty() {
            let started = Instant::now();
            let result = self.apply_crds(&crds).await;
            self.step("apply CRD", started, result);
        }
        self.setup().await;

        let mut operator = None;
        let mut webhooks = None;
        if let (Some(katalog), false) = (&spec.katalog, custom) {
            // The CRD and CR steps stand for the Katalog's crdFile and crFiles (applying the
            // CR at start would blur `cr-applied`); without them, the runtime sets the
            // Katalog up as `ork run` does.
            let setup = crds.is_empty() && crs.is_empty();
            let path = self.test.dir.join(katalog);
            // The gateway registers conversion on CRDs that must exist already: after the
            // file's CRD step, or after the runtime applied the Katalog's own crdFile.
            if !setup {
                webhooks = self.start_gateway(&path).await;
            }
            let started = Instant::now();
            match Operator::start(&path, self.cluster.kubeconfig(), setup).await {
                Ok(op) => {
                    let detail = Some(format!("in-process, API at http://{}", op.addr()));
                    self.record(
                        "start operator".into(),
                        Outcome::Pass,
                        started.elapsed(),
                        detail,
                    );
                    operator = Some(op);
                }
                Err(e) => self.step("start operator", started, Err(e)),
            }
            if setup {
                webhooks = self.start_gateway(&path).await;
            }
        }
        let checker = Checker::new(self.shell.clone(), operator.as_ref().map(Operator::addr));

        self.phase(&checker, Phase::SetupComplete).await;
        if !crs.is_empty() {
            let started = Instant::now();
            let result = self.apply(&crs).await;
            self.step("apply CR", started, result);
        }
        self.phase(&checker, Phase::CrApplied).await;
        if !crs.is_empty() {
            let started = Instant::now();
            let result = self.delete(&crs, false).await;
            self.step("delete CR", started, result);
        }
        self.phase(&checker, Phase::CrDeleted).await;

        let started = Instant::now();
        let result = self.teardown(operator, webhooks, &crds, &crs).await;
        self.step("teardown", started, result);
    }

    /// Starts the gateway when the Katalog declares webhooks (a step of its own then).
    async fn start_gateway(&mut self, katalog: &Path) -> Option<Webhooks> {
        let started = Instant::now();
        match Webhooks::start(katalog, self.cluster.kubeconfig()).await {
            Ok(Some(w)) => {
                let detail = Some(w.describe());
                self.record(
                    "start gateway".into(),
                    Outcome::Pass,
                    started.elapsed(),
                    detail,
                );
                Some(w)
            }
            Ok(None) => None,
            Err(e) => {
                self.step("start gateway", started, Err(e));
                None
            }
        }
    }

    async fn apply(&self, files: &[PathBuf]) -> Result<(), String> {
        for file in files {
            let f = file.display().to_string();
            let out = self.shell.kubectl(&["apply", "-f", &f], None).await;
            if !out.ok() {
                return Err(format!("kubectl apply -f {f}: {}", out.text.trim()));
            }
        }
        Ok(())
    }

    async fn apply_crds(&self, files: &[PathBuf]) -> Result<(), String> {
        self.apply(files).await?;
        for file in files {
            let f = file.display().to_string();
            let args = [
                "wait",
                "--for=condition=Established",
                "-f",
                &f,
                "--timeout=60s",
            ];
            // `kubectl wait` refuses a CRD whose status has no conditions yet (right after
            // its creation) instead of waiting: ask again until the deadline.
            let started = Instant::now();
            loop {
                let out = self.shell.kubectl(&args, None).await;
                if out.ok() {
                    break;
                }
                if started.elapsed() >= CRD_TIMEOUT {
                    return Err(format!("CRDs of {f} not Established: {}", out.text.trim()));
                }
                tokio::time::sleep(POLL).await;
            }
        }
        Ok(())
    }

    async fn delete(&self, files: &[PathBuf], wait: bool) -> Result<(), String> {
        let wait = if wait { "--wait=true" } else { "--wait=false" };
        for file in files.iter().rev() {
            let f = file.display().to_string();
            let args = [
                "delete",
                "-f",
                &f,
                "--ignore-not-found",
                wait,
                "--timeout=60s",
            ];
            let out = self.shell.kubectl(&args, None).await;
            if !out.ok() {
                return Err(format!("kubectl delete -f {f}: {}", out.text.trim()));
            }
        }
        Ok(())
    }

    async fn setup(&mut self) {
        let Some(setup) = self.test.spec.setup.clone() else {
            return;
        };
        for item in &setup.apply {
            let started = Instant::now();
            let mut result = self.apply(&[self.test.dir.join(&item.path)]).await;
            for w in &item.wait {
                if result.is_ok() {
                    result = self.wait_for(w).await;
                }
            }
            self.step(format!("setup apply {}", item.path), started, result);
        }
        for entry in &setup.helm {
            self.install_chart(entry).await;
        }
        for w in &setup.wait {
            let started = Instant::now();
            let result = self.wait_for(w).await;
            self.step(format!("setup wait {}/{}", w.kind, w.name), started, result);
        }
    }

    /// Helm on this test's cluster, its state in the test's temporary directory.
    fn helm(&self) -> Result<Helm, String> {
        let home = self
            ._cache
            .as_ref()
            .map_or_else(std::env::temp_dir, |c| c.path().to_path_buf())
            .join("helm");
        Ok(Helm::new(helm::locate()?, self.shell.clone(), &home))
    }

    /// One `setup.helm` entry: install, then its waits; a SKIP "blocked: needs network" when
    /// its repository cannot be reached.
    async fn install_chart(&mut self, entry: &HelmRelease) {
        let started = Instant::now();
        let name = format!("setup helm {}", entry.chart);
        let installed = match self.helm() {
            Ok(helm) => helm.install(entry).await,
            Err(e) => Err(e),
        };
        match installed {
            Ok(Installed::Release {
                name: release,
                namespace,
            }) => {
                self.releases.push((release, namespace));
                let mut result = Ok(());
                for w in &entry.wait {
                    if result.is_ok() {
                        result = self.wait_for(w).await;
                    }
                }
                self.step(name, started, result);
            }
            Ok(Installed::NeedsNetwork(why)) => {
                let detail = Some(format!("blocked: needs network: {why}"));
                self.record(name, Outcome::Skip, started.elapsed(), detail);
            }
            Err(e) => self.step(name, started, Err(e)),
        }
    }

    /// Polls until the object of `w` exists (and is ready when asked).
    async fn wait_for(&self, w: &WaitFor) -> Result<(), String> {
        let mut timeout = w
            .timeout
            .as_deref()
            .and_then(parse_duration)
            .unwrap_or(DEFAULT_TIMEOUT);
        if let Some(cap) = self.options.timeout_cap {
            timeout = timeout.min(cap);
        }
        let ns = w.namespace.as_deref().unwrap_or("default");
        let started = Instant::now();
        loop {
            let out = self
                .shell
                .kubectl(&["get", &w.kind, &w.name, "-n", ns, "-o", "json"], None)
                .await;
            let seen = if !out.ok() {
                out.text.trim().to_owned()
            } else if !w.ready {
                return Ok(());
            } else {
                match serde_json::from_str(&out.text)
                    .map_err(|e| e.to_string())
                    .and_then(|o| ready(&o))
                {
                    Ok(()) => return Ok(()),
                    Err(e) => format!("not ready ({e})"),
                }
            };
            if started.elapsed() >= timeout {
                return Err(format!(
                    "{}/{} in {ns}: timed out after {timeout:?}; last seen: {seen}",
                    w.kind, w.name
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn phase(&mut self, checker: &Checker, phase: Phase) {
        let expectations: Vec<Expectation> = self
            .test
            .spec
            .expect
            .iter()
            .filter(|e| e.after == phase)
            .cloned()
            .collect();
        for exp in &expectations {
            let name = format!("expect [{}] {}", phase.as_str(), exp.name);
            if self.failed && self.options.stop_after_failure {
                let detail = Some("not run: an earlier step failed".to_owned());
                self.record(name, Outcome::Skip, Duration::ZERO, detail);
                continue;
            }
            let started = Instant::now();
            let (outcome, detail) = self.expect(checker, exp).await;
            if outcome == Outcome::Fail {
                self.failed = true;
                self.on_failure().await;
            }
            self.record(name, outcome, started.elapsed(), detail);
        }
    }

    /// Polls one expectation until it passes or its timeout ends.
    async fn expect(&self, checker: &Checker, exp: &Expectation) -> (Outcome, Option<String>) {
        let skips = checker.skips(exp);
        if let Some(wait) = exp.wait.as_deref().and_then(parse_duration) {
            // The file asks for this pause (e.g. to let a period pass); it is not a stand-in
            // for a condition.
            tokio::time::sleep(wait).await;
        }
        let mut timeout = exp
            .timeout
            .as_deref()
            .and_then(parse_duration)
            .unwrap_or(DEFAULT_TIMEOUT);
        if let Some(cap) = self.options.timeout_cap
            && exp.after != Phase::CrDeleted
        {
            timeout = timeout.min(cap);
        }
        let started = Instant::now();
        let mut next_progress = PROGRESS_EVERY;
        loop {
            match checker.once(exp).await {
                Ok(()) if skips.is_empty() => return (Outcome::Pass, None),
                Ok(()) => return (Outcome::Skip, Some(skips.join("\n"))),
                Err(seen) => {
                    let elapsed = started.elapsed();
                    if elapsed >= timeout {
                        let detail = format!(
                            "timed out after {}; last seen: {seen}",
                            crate::report::seconds(timeout)
                        );
                        return (Outcome::Fail, Some(detail));
                    }
                    if self.options.verbose && elapsed >= next_progress {
                        eprintln!(
                            "ork e2e: still waiting for {:?} ({}/{}): {seen}",
                            exp.name,
                            crate::report::seconds(elapsed),
                            crate::report::seconds(timeout)
                        );
                        next_progress += PROGRESS_EVERY;
                    }
                }
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Prints the file's `onFailure` diagnostics once per test, on stderr.
    async fn on_failure(&mut self) {
        if self.diagnosed || !self.options.verbose {
            return;
        }
        self.diagnosed = true;
        let Some(OnFailure { kubectl, commands }) = self.test.spec.on_failure.clone() else {
            return;
        };
        let mut runs: Vec<Vec<String>> = Vec::new();
        if let Some(k) = kubectl {
            for (verb, refs) in [("describe", &k.describe), ("get", &k.get)] {
                for r in refs {
                    let mut args = vec![verb.to_owned(), r.kind.clone()];
                    args.extend(r.name.clone());
                    args.extend(["-n".into(), r.namespace.clone().unwrap_or("default".into())]);
                    if verb == "get" {
                        args.extend(["-o".into(), "yaml".into()]);
                    }
                    runs.push(args);
                }
            }
            for r in &k.events {
                let ns = r.namespace.clone().unwrap_or("default".into());
                runs.push(vec!["events".into(), "-n".into(), ns]);
            }
            if !k.logs.is_empty() {
                eprintln!("ork e2e: onFailure logs: simulated Pods run no container; no logs");
            }
        }
        for args in runs {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = self.shell.kubectl(&refs, None).await;
            eprintln!(
                "ork e2e: onFailure: kubectl {}\n{}",
                args.join(" "),
                out.text.trim_end()
            );
        }
        for command in commands {
            let out = self.shell.sh(&command).await;
            eprintln!("ork e2e: onFailure: {command}\n{}", out.text.trim_end());
        }
    }

    /// Stops the operator, then the gateway (which removes its webhook configurations and
    /// conversion stanzas) and, on a cluster ork e2e does not own, removes what the test
    /// applied: CRs (while the operator and the gateway still run, so finalizers are handled
    /// and stored versions convert), setup manifests, CRDs.
    async fn teardown(
        &self,
        operator: Option<Operator>,
        webhooks: Option<Webhooks>,
        crds: &[PathBuf],
        crs: &[PathBuf],
    ) -> Result<(), String> {
        let mut problems = Vec::new();
        let mut stuck = false;
        if !self.cluster.throwaway
            && let Err(e) = self.delete(crs, true).await
        {
            problems.push(e);
            stuck = true;
        }
        if let Some(op) = operator
            && let Err(e) = op.stop().await
        {
            problems.push(e);
        }
        if let Some(w) = webhooks
            && let Err(e) = w.stop().await
        {
            problems.push(e);
        }
        if stuck {
            // The CRs outlived their deletion (a finalizer nobody removed): the test has
            // failed already; clear them so the cluster is left clean for what runs next.
            for file in crs {
                let f = file.display().to_string();
                let patch = r#"{"metadata":{"finalizers":null}}"#;
                let args = ["patch", "-f", &f, "--type=merge", "-p", patch];
                let out = self.shell.kubectl(&args, None).await;
                if out.ok() {
                    problems.push(format!(
                        "removed the finalizers of the CRs of {f} to clean up"
                    ));
                }
            }
        }
        if !self.releases.is_empty() {
            match self.helm() {
                Ok(helm) => {
                    for (name, namespace) in &self.releases {
                        if let Err(e) = helm.uninstall(name, namespace).await {
                            problems.push(e);
                        }
                    }
                }
                Err(e) => problems.push(e),
            }
        }
        if !self.cluster.throwaway {
            let setup: Vec<PathBuf> = self
                .test
                .spec
                .setup
                .iter()
                .flat_map(|s| &s.apply)
                .map(|a| self.test.dir.join(&a.path))
                .collect();
            for files in [setup.as_slice(), crds] {
                if let Err(e) = self.delete(files, true).await {
                    problems.push(e);
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }
}
