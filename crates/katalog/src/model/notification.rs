//! `notification:` (spec §16.8): the teams the gateway's `/notify` delivers to.
//!
//! Every form the gateway has read since it was written (it reflects upstream Katalogs)
//! is accepted: `teams` as a list of `{name, …}` or a map name → `{…}`; recipients under
//! `email` or `emails`, each one address or a list; the Slack-style webhook under `slack`
//! or `slackWebhook`, as a URL, `{webhookUrl | url}`, or `true` for the gateway's default
//! webhook URL.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor, value::MapAccessDeserializer};
use serde::{Deserialize, Deserializer};

use super::OneOrMany;

/// `notification:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notification {
    /// The teams, in the order written (map form: sorted by name).
    #[serde(default)]
    pub teams: Teams,
}

/// `notification.teams`: a list of teams with `name`, or a map of name → team.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Teams(pub Vec<Team>);

/// One team: where its notifications go.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Team {
    /// The team's name (what `notify:` references).
    pub name: String,
    /// Email recipients (`email` and `emails` together).
    pub emails: Vec<String>,
    /// The Slack-style webhook (`slack` or `slackWebhook`).
    pub slack: Option<Slack>,
}

/// Where a team's Slack-style messages go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slack {
    /// This webhook URL.
    Url(String),
    /// The gateway's default webhook URL (`slack: true`, or a map without a URL).
    Default,
    /// No Slack delivery (`slack: false`).
    Off,
}

impl Slack {
    /// The URL to post to, given the gateway's default.
    pub fn url<'a>(&'a self, default: Option<&'a str>) -> Option<&'a str> {
        match self {
            Slack::Url(u) => Some(u),
            Slack::Default => default,
            Slack::Off => None,
        }
    }
}

/// A team body as written (the list form adds `name`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TeamBody {
    name: Option<String>,
    #[serde(default)]
    email: OneOrMany<String>,
    #[serde(default)]
    emails: OneOrMany<String>,
    slack: Option<Slack>,
    slack_webhook: Option<Slack>,
}

/// `slack: {webhookUrl | url}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SlackMap {
    webhook_url: Option<String>,
    url: Option<String>,
}

impl TeamBody {
    fn into_team<E: de::Error>(self, name: Option<String>) -> Result<Team, E> {
        let name = name
            .or(self.name)
            .ok_or_else(|| E::custom("a team in the `teams` list needs a `name`"))?;
        let mut emails = self.email.0;
        emails.extend(self.emails.0);
        Ok(Team {
            name,
            emails,
            slack: self.slack.or(self.slack_webhook),
        })
    }
}

impl<'de> Deserialize<'de> for Slack {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Slack;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a webhook URL, `{webhookUrl: URL}` or `true`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Slack, E> {
                Ok(Slack::Url(v.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Slack, E> {
                Ok(if v { Slack::Default } else { Slack::Off })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Slack, A::Error> {
                let m = SlackMap::deserialize(MapAccessDeserializer::new(map))?;
                Ok(m.webhook_url.or(m.url).map_or(Slack::Default, Slack::Url))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Teams {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Teams;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of teams with `name`, or a map of team name to team")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Teams, A::Error> {
                let mut out = Vec::new();
                while let Some(body) = seq.next_element::<TeamBody>()? {
                    out.push(body.into_team(None)?);
                }
                Ok(Teams(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Teams, A::Error> {
                let m = BTreeMap::<String, TeamBody>::deserialize(MapAccessDeserializer::new(map))?;
                m.into_iter()
                    .map(|(name, body)| body.into_team(Some(name)))
                    .collect::<Result<_, _>>()
                    .map(Teams)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Teams, E> {
                Ok(Teams(Vec::new()))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(v: serde_json::Value) -> Result<Notification, serde_json::Error> {
        serde_json::from_value(v)
    }

    #[test]
    fn every_form_the_gateway_reads_is_accepted() {
        let list = read(json!({"teams": [
            {"name": "ops", "email": "ops@x", "slack": {"webhookUrl": "http://h/1"}},
            {"name": "dev", "emails": ["a@x", "b@x"], "slack": true},
            {"name": "qa", "email": ["q@x"], "emails": "r@x", "slack": {"url": "http://h/3"}},
        ]}))
        .unwrap();
        let t = &list.teams.0;
        assert_eq!(t[0].emails, ["ops@x"]);
        assert_eq!(t[0].slack, Some(Slack::Url("http://h/1".into())));
        assert_eq!(t[1].emails, ["a@x", "b@x"]);
        assert_eq!(t[1].slack, Some(Slack::Default));
        assert_eq!(t[2].emails, ["q@x", "r@x"]);
        assert_eq!(t[2].slack.as_ref().unwrap().url(None), Some("http://h/3"));
        let map = read(json!({"teams": {"ops": {"slackWebhook": "http://h/2"}, "a": {}}})).unwrap();
        assert_eq!(map.teams.0[1].name, "ops");
        assert_eq!(
            map.teams.0[1].slack.as_ref().unwrap().url(None),
            Some("http://h/2")
        );
        assert_eq!(Slack::Default.url(Some("http://d")), Some("http://d"));
        assert_eq!(Slack::Off.url(Some("http://d")), None);
    }

    #[test]
    fn typos_and_nameless_list_teams_are_refused() {
        let e = read(json!({"teams": [{"name": "ops", "emial": "x"}]})).unwrap_err();
        assert!(e.to_string().contains("emial"), "{e}");
        let e = read(json!({"teams": [{"email": "x"}]})).unwrap_err();
        assert!(e.to_string().contains("needs a `name`"), "{e}");
        let e = read(json!({"team": []})).unwrap_err();
        assert!(e.to_string().contains("team"), "{e}");
        let e = read(json!({"teams": {"ops": {"slack": {"webhook": "u"}}}})).unwrap_err();
        assert!(e.to_string().contains("webhook"), "{e}");
    }
}
