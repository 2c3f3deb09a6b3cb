//! A watch that lists again from scratch after every error, for the watches whose cache a
//! reconcile decides its writes on (the primary watch and the child watches).
//!
//! kube's watcher, after an error, watches again from the last resource version it saw: the
//! cache stays as it was until the new watch replays what changed, and nothing says when that
//! happened (no event comes when nothing changed). A reconcile in between decides on an object
//! that may be older than what the API server holds; after a cut connection that is typically
//! the CR without the status the reconcile itself wrote just before the cut, so it writes that
//! status (and an Event) again. Listing again ends with [`Event::InitDone`], a moment from
//! which the cache is known to be current; the owner of the cache stops trusting it at the
//! error and trusts it again from that event. A list costs one request per page, and errors
//! are rare, so the price is small.
//!
//! Each error is yielded, then the next watcher starts after the backoff's next delay; the
//! backoff is reset by every complete list. Every attempt begins with [`Event::Init`], which
//! kube's watcher yields *before* its list request: it says nothing about the API server
//! being reachable (a consumer that clears its health on any event must skip it).

use std::fmt::Debug;
use std::time::Duration;

use futures::{Stream, StreamExt, stream::BoxStream};
use kube::Resource;
use kube::api::Api;
use kube::runtime::utils::Backoff;
use kube::runtime::watcher::{self, Event, watcher};
use serde::de::DeserializeOwned;

/// The watch of `api` with `config`, listing again after every error (see the module docs);
/// `backoff` spaces the attempts.
pub(super) fn relisting<K, B>(
    api: Api<K>,
    config: watcher::Config,
    backoff: B,
) -> impl Stream<Item = watcher::Result<Event<K>>> + Send
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
    B: Backoff + Send + 'static,
{
    let state = Relisting {
        api,
        config,
        backoff,
        current: None,
        delay: None,
    };
    futures::stream::unfold(state, |mut state| async move {
        let event = state.next().await;
        Some((event, state))
    })
}

struct Relisting<K: 'static, B> {
    api: Api<K>,
    config: watcher::Config,
    backoff: B,
    /// The watcher of the current attempt (`None`: start one).
    current: Option<BoxStream<'static, watcher::Result<Event<K>>>>,
    /// How long to wait before the next attempt starts.
    delay: Option<Duration>,
}

impl<K, B> Relisting<K, B>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
    B: Backoff + Send + 'static,
{
    async fn next(&mut self) -> watcher::Result<Event<K>> {
        loop {
            if let Some(delay) = self.delay.take() {
                tokio::time::sleep(delay).await;
            }
            let (api, config) = (&self.api, &self.config);
            let current = self
                .current
                .get_or_insert_with(|| watcher(api.clone(), config.clone()).boxed());
            match current.next().await {
                Some(Ok(event)) => {
                    if matches!(event, Event::InitDone) {
                        self.backoff.reset();
                    }
                    return Ok(event);
                }
                Some(Err(error)) => {
                    self.current = None;
                    self.delay = self.backoff.next();
                    return Err(error);
                }
                // A watcher never ends; should one, the next starts with a list.
                None => self.current = None,
            }
        }
    }
}
