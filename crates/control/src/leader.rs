//! Following the leader behind one URL. A runtime URL is often a Kubernetes Service in front of
//! several replicas, of which only the leader (`isKonductor: true`) runs the operators and has
//! live numbers. As Orkestra's Control Center does, a follower's answer is retried up to
//! [`RETRIES`] times, each on a fresh connection (so the Service may route it to another
//! replica), until the leader answers.

use serde_json::Value;

use crate::source::Source;

/// Extra tries after a follower answered.
pub const RETRIES: usize = 3;

/// The `GET /katalog` answer of `base`, the leader's when one of [`RETRIES`] + 1 tries reaches
/// it, else the last follower's.
///
/// A degraded runtime answers 503 with its summary: that is an answer, not an error.
///
/// # Errors
/// Why `base` could not be reached, or why its answer is not a `/katalog` summary.
pub async fn katalog_of<S: Source>(source: &S, base: &str) -> Result<Value, String> {
    let url = format!("{}/katalog", base.trim_end_matches('/'));
    let mut last = None;
    for _ in 0..=RETRIES {
        let answer = source.get(&url).await?;
        let body = answer.json()?;
        if !body.is_object() || (body.get("crds").is_none() && body.get("name").is_none()) {
            return Err(format!(
                "HTTP {}: not a /katalog answer (is {base} an ork runtime or gateway?)",
                answer.status
            ));
        }
        let is_runtime_follower =
            body.get("source").is_none() && body["isKonductor"].as_bool() == Some(false);
        if !is_runtime_follower {
            return Ok(body);
        }
        last = Some(body);
    }
    last.ok_or_else(|| "no answer".to_owned())
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::{BTreeMap, VecDeque};
    use std::sync::Mutex;

    use serde_json::json;

    use super::*;
    use crate::source::Answer;

    /// Answers each URL from a queue of prepared answers; the last one repeats.
    #[derive(Default)]
    pub(crate) struct Scripted {
        pub(crate) answers: Mutex<BTreeMap<String, VecDeque<Result<Answer, String>>>>,
        pub(crate) asked: Mutex<Vec<String>>,
    }

    impl Scripted {
        pub(crate) fn answer(&self, url: &str, status: u16, body: &Value) {
            self.push(
                url,
                Ok(Answer {
                    status,
                    body: body.to_string().into_bytes(),
                }),
            );
        }

        fn push(&self, url: &str, answer: Result<Answer, String>) {
            self.answers
                .lock()
                .unwrap()
                .entry(url.to_owned())
                .or_default()
                .push_back(answer);
        }

        pub(crate) fn clear(&self, url: &str) {
            self.answers.lock().unwrap().remove(url);
        }
    }

    impl Source for Scripted {
        async fn get(&self, url: &str) -> Result<Answer, String> {
            self.asked.lock().unwrap().push(url.to_owned());
            let mut answers = self.answers.lock().unwrap();
            let queue = answers
                .get_mut(url)
                .ok_or_else(|| format!("connection refused ({url})"))?;
            if queue.len() > 1 {
                queue.pop_front().unwrap()
            } else {
                queue.front().cloned().unwrap()
            }
        }
    }

    fn summary(leads: bool) -> Value {
        json!({"name": "shop", "isKonductor": leads, "crds": []})
    }

    #[tokio::test]
    async fn a_follower_is_retried_until_the_leader_answers() {
        let source = Scripted::default();
        let url = "http://svc:8080/katalog";
        source.answer(url, 200, &summary(false));
        source.answer(url, 200, &summary(false));
        source.answer(url, 200, &summary(true));
        let body = katalog_of(&source, "http://svc:8080/").await.unwrap();
        assert_eq!(body["isKonductor"], true);
        assert_eq!(source.asked.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn after_the_retries_the_followers_answer_is_kept() {
        let source = Scripted::default();
        source.answer("http://svc/katalog", 200, &summary(false));
        let body = katalog_of(&source, "http://svc").await.unwrap();
        assert_eq!(body["isKonductor"], false);
        assert_eq!(source.asked.lock().unwrap().len(), RETRIES + 1);
    }

    #[tokio::test]
    async fn a_degraded_answer_and_a_gateway_are_taken_at_once() {
        let source = Scripted::default();
        source.answer("http://rt/katalog", 503, &summary(true));
        source.answer(
            "http://gw/katalog",
            200,
            &json!({"source": "gateway", "katalog": "shop", "crds": {}}),
        );
        assert_eq!(
            katalog_of(&source, "http://rt").await.unwrap()["isKonductor"],
            true
        );
        assert_eq!(
            katalog_of(&source, "http://gw").await.unwrap()["source"],
            "gateway"
        );
        assert_eq!(source.asked.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn something_else_is_refused_with_what_it_was() {
        let source = Scripted::default();
        source.answer("http://x/katalog", 404, &json!({"message": "nope"}));
        let error = katalog_of(&source, "http://x").await.unwrap_err();
        assert!(error.contains("not a /katalog answer"), "{error}");
        let error = katalog_of(&source, "http://down").await.unwrap_err();
        assert!(error.contains("refused"), "{error}");
    }
}
