//! Throughput of one OperatorBox's queue and workers: keys per second through
//! add → next → reconcile → done, with trivial reconciles.
//!
//! `floor` pushes the same number of keys through a plain tokio mpsc channel to one consumer,
//! in the same run, so the figure can be read as a ratio against it.
//!
//! Run with `cargo bench -p runtime --bench queue`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use divan::Bencher;
use divan::counter::ItemsCount;
use runtime::{Action, Queue, QueueConfig, Report, Workers, WorkersConfig};
use tokio::runtime::Runtime;
use tokio::sync::Notify;

/// Keys pushed through per iteration.
const KEYS: u32 = 10_000;

fn main() {
    divan::main();
}

fn tokio_runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime starts")
}

/// Counts finished reconciles and wakes the bench when a target is reached.
#[derive(Default)]
struct Finished {
    count: AtomicUsize,
    wake: Notify,
}

impl Finished {
    async fn wait_for(&self, target: usize) {
        loop {
            let woken = self.wake.notified();
            if self.count.load(Ordering::Acquire) >= target {
                return;
            }
            woken.await;
        }
    }
}

#[divan::bench(args = [1, 8])]
fn add_next_done(bencher: Bencher, workers: usize) {
    let runtime = tokio_runtime();
    let queue: Queue<u32> = Queue::new(QueueConfig::default());
    let finished = Arc::new(Finished::default());
    let pool = runtime.block_on(async {
        let finished = Arc::clone(&finished);
        let observer = move |_key: &u32, _report: &Report| {
            let done = finished.count.fetch_add(1, Ordering::AcqRel) + 1;
            if done % KEYS as usize == 0 {
                finished.wake.notify_one();
            }
        };
        let reconcile = |_key: u32| async { Ok::<_, std::convert::Infallible>(Action::Done) };
        Workers::spawn(
            queue.clone(),
            WorkersConfig::default().count(workers),
            reconcile,
            observer,
        )
    });
    bencher.counter(ItemsCount::new(KEYS)).bench_local(|| {
        runtime.block_on(async {
            let target = finished.count.load(Ordering::Acquire) + KEYS as usize;
            for key in 0..KEYS {
                queue.add(key);
            }
            finished.wait_for(target).await;
        });
    });
    runtime
        .block_on(pool.stop())
        .expect("trivial reconciles stop at once");
}

#[divan::bench]
fn floor(bencher: Bencher) {
    let runtime = tokio_runtime();
    bencher.counter(ItemsCount::new(KEYS)).bench_local(|| {
        runtime.block_on(async {
            let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
            let consumer = tokio::spawn(async move {
                let mut received = 0;
                while receiver.recv().await.is_some() {
                    received += 1;
                }
                received
            });
            for key in 0..KEYS {
                sender.send(key).expect("consumer is running");
            }
            drop(sender);
            assert_eq!(consumer.await.expect("consumer finishes"), KEYS);
        });
    });
}
