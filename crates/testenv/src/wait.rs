//! Waiting on a condition with a deadline: how every test waits, instead of sleeping.

use std::future::Future;
use std::time::Duration;

/// Polls `check` every 100 ms until it returns `Some`, and returns that value.
///
/// # Panics
/// After `timeout`, with a message naming `what` was waited for.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn eventually_returns_the_first_value_the_check_gives() {
        let mut calls = 0;
        let got = eventually("the third call", Duration::from_secs(5), || {
            calls += 1;
            let n = calls;
            async move { (n == 3).then_some(n) }
        })
        .await;
        assert_eq!(got, 3);
    }

    #[tokio::test(start_paused = true)]
    #[should_panic(expected = "timed out after 1s waiting for nothing")]
    async fn eventually_names_what_it_waited_for_when_time_runs_out() {
        eventually("nothing", Duration::from_secs(1), || async { None::<()> }).await;
    }
}
