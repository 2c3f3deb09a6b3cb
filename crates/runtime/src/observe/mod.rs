//! What a box observes beyond its own CRs and children (spec §11.2–11.3): cross-CRD reads
//! served from the other boxes' caches ([`cross`]), and secondary watches that queue the
//! box's CRs when other objects change ([`watch`]).
//!
//! Both are pure resolution over reflector stores and closures, so the boxes and the
//! supervisor only wire them: the supervisor registers each box's cache in [`Sources`], hands
//! a [`Cross`] to each reconcile, and reports each change of a box's objects to
//! [`Sources::changed`].

pub mod cross;
pub mod watch;

pub use cross::{Cross, Dependent, Source, Sources};
pub use watch::{Change, KeyFrom, Primary, Secondary};

use std::sync::Arc;

use kube::Client;
use kube::api::DynamicObject;
use kube::runtime::reflector::Store;
use tokio::task::JoinSet;

use crate::discovery::Discovery;
use crate::operator_box::BoxConfig;
use crate::operator_box::health::Health;
use crate::operator_box::intake::Intake;

/// Joins a starting box to its process's observation: registers its cache in the config's
/// [`Sources`] (when set), binds its `cross` declarations to them and subscribes it to the
/// changes of the CRDs they read, and spawns one task per `watch:` entry into `tasks`. Keys
/// go to `intake`, so they are dropped while the box is inactive, as its own watches' are.
pub(crate) fn attach(
    tasks: &mut JoinSet<()>,
    client: &Client,
    config: &BoxConfig,
    store: &Store<DynamicObject>,
    intake: &Intake,
    health: &Health,
    cross: Option<Arc<Cross>>,
) {
    let enqueue = {
        let intake = intake.clone();
        let crd = config.name().to_owned();
        move |key: crate::operator_box::Key| {
            if intake.add(key.clone()) == Some(crate::operator_box::queue::Added::Dropped) {
                tracing::warn!(%crd, %key, "enqueue: queue depth limit reached — item dropped");
            }
        }
    };
    if let Some(sources) = config.cross_sources() {
        sources.insert(
            config.name(),
            Source {
                store: store.clone(),
                resource: config.resource().clone(),
            },
        );
        if let Some(cross) = cross {
            cross.bind(sources);
            sources.subscribe(Dependent {
                crd: config.name().to_owned(),
                cross,
                store: store.clone(),
                enqueue: Arc::new(enqueue.clone()),
            });
        }
    }
    if config.secondary_watches().is_empty() {
        return;
    }
    // One discovery cache per box, as the reconcile's: boxes share nothing mutable.
    let discovery = Arc::new(Discovery::new(client.clone()));
    let primary = Primary {
        resource: config.resource().clone(),
        namespaced: config.is_namespaced(),
        store: store.clone(),
    };
    for entry in config.secondary_watches() {
        tasks.spawn(watch::run(
            client.clone(),
            Arc::clone(&discovery),
            config.name().to_owned(),
            entry.clone(),
            primary.clone(),
            health.clone(),
            enqueue.clone(),
        ));
    }
}
