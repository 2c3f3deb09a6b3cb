//! `cross:` reads in a simulation: the CRs of the Katalog's other CRDs stored beside the CR
//! under test (its peers, from the CR file) become the caches `.cross` reads, as the other
//! boxes' caches would in a process.

use katalog::Katalog;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::reflector::store::Writer;
use kube::runtime::watcher::Event;
use runtime::observe::cross::{Source, Sources};

use crate::api::Api;
use crate::world;

/// The caches of every CRD of `katalog`, filled with the CRs stored in `api`.
pub async fn sources(api: &Api, katalog: &Katalog) -> Sources {
    let sources = Sources::default();
    for crd in &katalog.crds {
        let kind = world::crd_kind(crd);
        let resource = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(&kind.group, &kind.version, &kind.kind),
            &kind.plural,
        );
        let mut writer = Writer::new(resource.clone());
        writer.apply_watcher_event(&Event::Init);
        for object in api.list(&kind).await {
            if let Ok(o) = serde_json::from_value::<DynamicObject>(object) {
                writer.apply_watcher_event(&Event::InitApply(o));
            }
        }
        writer.apply_watcher_event(&Event::InitDone);
        sources.insert(
            &crd.name,
            Source {
                store: writer.as_reader(),
                resource,
                // No box runs in a simulation: `.cross.<as>.health`/`.metrics` stay absent.
                vitals: None,
            },
        );
    }
    sources
}
