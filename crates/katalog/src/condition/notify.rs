//! `notify:` on a condition (spec §16.8, Orkestra's NotifyBlock): the teams of
//! `notification.teams` told when the condition starts to hold, with an optional message
//! template. Written as `{teams: [...], message: ...}` or as a bare list of team names.

use serde::{Deserialize, Serialize};

/// Who is told when a condition starts to hold, and what.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "Written")]
pub struct Notify {
    /// Team names, each declared under `notification.teams`.
    pub teams: Vec<String>,
    /// Message template, rendered against the CR; absent: a message naming the condition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The two written forms.
#[derive(Deserialize)]
#[serde(untagged)]
enum Written {
    Teams(Vec<String>),
    Block(Block),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Block {
    #[serde(default)]
    teams: Vec<String>,
    #[serde(default)]
    message: Option<String>,
}

impl From<Written> for Notify {
    fn from(w: Written) -> Self {
        match w {
            Written::Teams(teams) => Notify {
                teams,
                message: None,
            },
            Written::Block(b) => Notify {
                teams: b.teams,
                message: b.message,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_read() {
        let n: Notify = serde_json::from_str(r#"{"teams": ["ops"], "message": "m"}"#).unwrap();
        assert_eq!(
            (n.teams, n.message.as_deref()),
            (vec!["ops".to_owned()], Some("m"))
        );
        let n: Notify = serde_json::from_str(r#"["ops", "dev"]"#).unwrap();
        assert_eq!(n.teams, ["ops", "dev"]);
        assert!(serde_json::from_str::<Notify>(r#"{"team": "ops"}"#).is_err());
    }
}
