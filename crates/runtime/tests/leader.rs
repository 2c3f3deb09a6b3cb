//! Lease election against a real control plane: one leader, hand-over on release, take-over
//! after a crash, and no split brain when a leader cannot renew.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Event;
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use kube::api::{Api, DeleteParams, ListParams, ObjectMeta, PostParams};
use runtime::{Elector, LeaderConfig};
use testenv::Identity;
use tokio::sync::watch;
use tokio::time::Instant;

/// Short durations so failures show quickly: lease 4 s, renew deadline 3 s, retry 250 ms.
fn fast(namespace: &str, identity: &str) -> LeaderConfig {
    LeaderConfig::default()
        .namespace(namespace)
        .identity(identity)
        .lease_duration(Duration::from_secs(4))
        .renew_deadline(Duration::from_secs(3))
        .retry_period(Duration::from_millis(250))
}

/// Waits until `rx` holds `want`; returns how long that took, or panics after `within`.
async fn until(rx: &mut watch::Receiver<bool>, want: bool, within: Duration) -> Duration {
    let start = Instant::now();
    tokio::time::timeout(within, rx.wait_for(|leading| *leading == want))
        .await
        .unwrap_or_else(|_| panic!("leadership did not become {want} within {within:?}"))
        .expect("the elector is alive");
    start.elapsed()
}

/// Records whether `a` and `b` ever both claim to lead.
fn watch_for_split_brain(
    mut a: watch::Receiver<bool>,
    mut b: watch::Receiver<bool>,
) -> Arc<AtomicBool> {
    let both = Arc::new(AtomicBool::new(false));
    let flag = both.clone();
    tokio::spawn(async move {
        loop {
            if *a.borrow_and_update() && *b.borrow_and_update() {
                flag.store(true, Ordering::SeqCst);
            }
            tokio::select! {
                r = a.changed() => if r.is_err() { break },
                r = b.changed() => if r.is_err() { break },
            }
        }
    });
    both
}

/// An admin client and a new namespace for one test.
async fn fresh_namespace(prefix: &str) -> (kube::Client, String) {
    let client = testenv::shared().await.client().await.unwrap();
    let ns = testenv::namespace(&client, prefix).await;
    (client, ns)
}

async fn holder(client: &kube::Client, namespace: &str) -> Option<String> {
    let api: Api<Lease> = Api::namespaced(client.clone(), namespace);
    api.get("orkestra-konductor")
        .await
        .unwrap()
        .spec
        .and_then(|s| s.holder_identity)
}

#[tokio::test]
async fn two_electors_elect_exactly_one_leader() {
    let (client, ns) = fresh_namespace("leader-one").await;
    let a = Elector::spawn(client.clone(), fast(&ns, "a")).unwrap();
    let b = Elector::spawn(client.clone(), fast(&ns, "b")).unwrap();
    let both = watch_for_split_brain(a.subscribe(), b.subscribe());
    let (mut ra, mut rb) = (a.subscribe(), b.subscribe());
    tokio::time::timeout(Duration::from_secs(10), async {
        tokio::select! {
            _ = ra.wait_for(|l| *l) => {},
            _ = rb.wait_for(|l| *l) => {},
        }
    })
    .await
    .expect("someone leads within 10 s");
    // A few more renewals by the leader and polls by the follower change nothing.
    let lease = holder(&client, &ns).await.expect("the Lease has a holder");
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_ne!(a.is_leader(), b.is_leader(), "exactly one leads");
    }
    let leader = if a.is_leader() { "a" } else { "b" };
    assert_eq!(lease, leader);
    assert_eq!(holder(&client, &ns).await.as_deref(), Some(leader));
    assert!(!both.load(Ordering::SeqCst), "both led at one moment");
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn a_released_lease_is_taken_over_within_two_seconds() {
    let (client, ns) = fresh_namespace("leader-release").await;
    let a = Elector::spawn(client.clone(), fast(&ns, "a")).unwrap();
    until(&mut a.subscribe(), true, Duration::from_secs(10)).await;
    let b = Elector::spawn(client.clone(), fast(&ns, "b")).unwrap();
    let both = watch_for_split_brain(a.subscribe(), b.subscribe());
    let mut rb = b.subscribe();
    let start = Instant::now();
    a.shutdown().await;
    // Released: empty, or already taken by `b`, whose Lease watch may see the release
    // before this read (never still `a`: its term could not have expired this soon).
    assert_ne!(
        holder(&client, &ns).await.as_deref(),
        Some("a"),
        "shutdown released the Lease"
    );
    until(&mut rb, true, Duration::from_secs(2)).await;
    assert!(start.elapsed() < Duration::from_secs(2));
    assert!(!both.load(Ordering::SeqCst), "both led at one moment");
    assert_eq!(holder(&client, &ns).await.as_deref(), Some("b"));
    b.shutdown().await;
    let reasons = lease_event_reasons(&client, &ns, 3).await;
    for reason in ["KonductorElected", "KonductorLost"] {
        assert!(
            reasons.iter().any(|r| r == reason),
            "{reason} in {reasons:?}"
        );
    }
}

#[tokio::test]
async fn a_follower_sees_a_release_at_once_not_at_its_next_poll() {
    let (client, ns) = fresh_namespace("leader-watch").await;
    let config = |identity: &str, retry: u64| {
        LeaderConfig::default()
            .namespace(&ns)
            .identity(identity)
            .lease_duration(Duration::from_secs(retry * 3))
            .renew_deadline(Duration::from_secs(retry * 2))
            .retry_period(Duration::from_secs(retry))
    };
    // a renews every second; b polls every 20 s, so polling alone would leave it following
    // for about 18 s after a's release below.
    let a = Elector::spawn(client.clone(), config("a", 1)).unwrap();
    until(&mut a.subscribe(), true, Duration::from_secs(10)).await;
    let b = Elector::spawn(client.clone(), config("b", 20)).unwrap();
    let mut rb = b.subscribe();
    // b polls once as it starts and finds the Lease held; two renewals of a later that poll
    // is surely behind us.
    let lease: Api<Lease> = Api::namespaced(client.clone(), &ns);
    for _ in 0..2 {
        let seen = lease
            .get("orkestra-konductor")
            .await
            .unwrap()
            .metadata
            .resource_version;
        testenv::eventually("a to renew the Lease", Duration::from_secs(10), || {
            let (lease, seen) = (lease.clone(), seen.clone());
            async move {
                let now = lease
                    .get("orkestra-konductor")
                    .await
                    .ok()?
                    .metadata
                    .resource_version;
                (now != seen).then_some(())
            }
        })
        .await;
    }
    assert!(!b.is_leader());
    a.shutdown().await;
    let took = until(&mut rb, true, Duration::from_secs(5)).await;
    eprintln!("take-over of a released Lease by a 20 s poller: {took:?}");
    assert_eq!(holder(&client, &ns).await.as_deref(), Some("b"));
    b.shutdown().await;
}

/// The reasons of the Events on the Lease, once there are at least `at_least` (10 s at most).
async fn lease_event_reasons(
    client: &kube::Client,
    namespace: &str,
    at_least: usize,
) -> Vec<String> {
    let api: Api<Event> = Api::namespaced(client.clone(), namespace);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reasons: Vec<String> = api
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|e| e.involved_object.kind.as_deref() == Some("Lease"))
            .filter_map(|e| e.reason)
            .collect();
        if reasons.len() >= at_least || Instant::now() > deadline {
            return reasons;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_crashed_leader_is_replaced_within_lease_duration_plus_two_seconds() {
    let (client, ns) = fresh_namespace("leader-crash").await;
    let a = Elector::spawn(client.clone(), fast(&ns, "a")).unwrap();
    until(&mut a.subscribe(), true, Duration::from_secs(10)).await;
    let b = Elector::spawn(client.clone(), fast(&ns, "b")).unwrap();
    let mut rb = b.subscribe();
    // Let b see the Lease held, then kill a without releasing (as SIGKILL would).
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!b.is_leader());
    let start = Instant::now();
    drop(a);
    until(&mut rb, true, Duration::from_secs(4 + 2)).await;
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(3),
        "b waited for the Lease to expire (took {took:?})"
    );
    assert_eq!(holder(&client, &ns).await.as_deref(), Some("b"));
    b.shutdown().await;
}

#[tokio::test]
async fn a_crashed_leader_is_replaced_a_lease_duration_after_its_last_renewal() {
    // A long retry period (2 s of a 5 s lease) separates the two ways of noticing expiry:
    // polling alone takes over 0-4 s late (the poll that first sees the last renewal, then the
    // poll that finds it expired); the Lease watch sees the renewal as it is written and wakes
    // the follower when the lease duration has passed since.
    let (client, ns) = fresh_namespace("leader-expiry").await;
    let config = |id| {
        fast(&ns, id)
            .lease_duration(Duration::from_secs(5))
            .renew_deadline(Duration::from_secs(4))
            .retry_period(Duration::from_secs(2))
    };
    let a = Elector::spawn(client.clone(), config("a")).unwrap();
    until(&mut a.subscribe(), true, Duration::from_secs(10)).await;
    let b = Elector::spawn(client.clone(), config("b")).unwrap();
    let mut rb = b.subscribe();
    // Kill a right after a renewal (the next one is a retry period away), so the kill is the
    // moment of its last renewal.
    let leases: Api<Lease> = Api::namespaced(client.clone(), &ns);
    let version = |lease: Lease| lease.metadata.resource_version;
    let first = version(leases.get("orkestra-konductor").await.unwrap());
    let deadline = Instant::now() + Duration::from_secs(10);
    while version(leases.get("orkestra-konductor").await.unwrap()) == first {
        assert!(Instant::now() < deadline, "a never renewed its Lease");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let start = Instant::now();
    drop(a); // as SIGKILL: nothing is released
    assert!(!b.is_leader());
    until(&mut rb, true, Duration::from_secs(5 + 1)).await;
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(4500),
        "b waited for the Lease to expire (took {took:?})"
    );
    assert_eq!(holder(&client, &ns).await.as_deref(), Some("b"));
    b.shutdown().await;
}

#[tokio::test]
async fn a_leader_that_cannot_renew_stops_leading_before_another_can_take_over() {
    let cp = testenv::shared().await;
    let admin = cp.client().await.unwrap();
    let ns = testenv::namespace(&admin, "leader-renew").await;
    // `a` may use Leases only while its RoleBinding exists.
    let roles: Api<Role> = Api::namespaced(admin.clone(), &ns);
    let role = Role {
        metadata: ObjectMeta {
            name: Some("elector".into()),
            ..ObjectMeta::default()
        },
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec!["coordination.k8s.io".into()]),
            resources: Some(vec!["leases".into()]),
            verbs: vec!["get".into(), "create".into(), "update".into()],
            ..PolicyRule::default()
        }]),
    };
    roles.create(&PostParams::default(), &role).await.unwrap();
    let bindings: Api<RoleBinding> = Api::namespaced(admin.clone(), &ns);
    let binding = RoleBinding {
        metadata: ObjectMeta {
            name: Some("elector".into()),
            ..ObjectMeta::default()
        },
        role_ref: RoleRef {
            api_group: Some("rbac.authorization.k8s.io".into()),
            kind: "Role".into(),
            name: "elector".into(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: "elector-a".into(),
            namespace: Some(ns.clone()),
            ..Subject::default()
        }]),
    };
    bindings
        .create(&PostParams::default(), &binding)
        .await
        .unwrap();
    let limited = cp
        .client_as(&Identity::service_account(&ns, "elector-a"))
        .await
        .unwrap();

    let a = Elector::spawn(limited, fast(&ns, "a")).unwrap();
    let mut ra = a.subscribe();
    tokio::time::timeout(Duration::from_secs(10), ra.wait_for(|l| *l))
        .await
        .expect("a leads while it may write Leases")
        .unwrap();
    let b = Elector::spawn(admin.clone(), fast(&ns, "b")).unwrap();
    let both = watch_for_split_brain(a.subscribe(), b.subscribe());
    let mut rb = b.subscribe();

    let revoked = Instant::now();
    bindings
        .delete("elector", &DeleteParams::default())
        .await
        .unwrap();
    // a renewed at the latest just before the revocation, so it must give up within the
    // renew deadline (3 s) of it; b may take over only a lease duration (4 s) after that.
    let lost = until(
        &mut ra,
        false,
        Duration::from_secs(3) + Duration::from_millis(500),
    )
    .await;
    let lost_at = revoked + lost;
    until(&mut rb, true, Duration::from_secs(4 + 2)).await;
    let taken = revoked.elapsed();
    assert!(
        lost_at < revoked + taken,
        "a stopped leading ({lost:?}) before b led ({taken:?})"
    );
    assert!(!both.load(Ordering::SeqCst), "both led at one moment");
    b.shutdown().await;
    a.shutdown().await;
}

#[tokio::test]
async fn twenty_graceful_hand_overs_each_take_less_than_two_seconds() {
    let (client, ns) = fresh_namespace("leader-twenty").await;
    let mut leader = Elector::spawn(client.clone(), fast(&ns, "e0")).unwrap();
    until(&mut leader.subscribe(), true, Duration::from_secs(10)).await;
    let mut took = Vec::new();
    for i in 1..=20 {
        let next = Elector::spawn(client.clone(), fast(&ns, &format!("e{i}"))).unwrap();
        let mut rx = next.subscribe();
        // The follower has polled the held Lease at least once.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let start = Instant::now();
        leader.shutdown().await;
        until(&mut rx, true, Duration::from_secs(2)).await;
        took.push(start.elapsed());
        leader = next;
    }
    leader.shutdown().await;
    took.sort();
    eprintln!(
        "20 hand-overs (retry 250 ms): min {:?}, median {:?}, max {:?}",
        took[0], took[10], took[19]
    );
    assert!(took[19] < Duration::from_secs(2));
}
