//! `notify:` on conditions (spec §16.8): read on the conditions of `status.fields` only, and
//! every team it names must be declared under `notification.teams`.

use super::Cx;
use super::walk::{crd_of, walk};
use crate::diagnostic::Diagnostic;
use crate::yaml::{Node, NodeKind};

pub fn check(cx: &mut Cx<'_>) {
    let declared: Vec<String> = cx
        .katalog
        .document
        .notification
        .as_ref()
        .map(|n| n.value.teams.0.iter().map(|t| t.name.clone()).collect())
        .unwrap_or_default();
    let roots = std::mem::take(&mut cx.resolver.roots);
    let mut problems: Vec<(Diagnostic, &Node)> = Vec::new();
    for root in &roots {
        walk(root, "", &mut |node, path| {
            let Some(parent) = path.strip_suffix(".notify") else {
                return;
            };
            if !is_condition(parent) {
                return;
            }
            let crd = crd_of(path).map(str::to_owned);
            let with_crd = |d: Diagnostic| match &crd {
                Some(c) => d.with_crd(c.clone()).with_path(path.to_owned()),
                None => d.with_path(path.to_owned()),
            };
            if !in_status_fields(parent) {
                problems.push((
                    with_crd(
                        Diagnostic::error(
                            "notify-unsupported-here",
                            "`notify:` is read on the conditions of `status.fields` only; \
                             here it would never be sent",
                        )
                        .with_hint("move it to a `status.fields[].when` or `.or` condition"),
                    ),
                    node,
                ));
                return;
            }
            let teams = teams_of(node);
            if teams.is_empty() {
                problems.push((
                    with_crd(Diagnostic::error(
                        "notify-no-team",
                        "`notify:` names no team",
                    ))
                    .with_hint("list teams declared under `notification.teams`"),
                    node,
                ));
            }
            for team in teams {
                let name = team.as_str().unwrap_or_default();
                if !declared.iter().any(|d| d == name) {
                    let hint = if declared.is_empty() {
                        "declare it under `notification.teams`".to_owned()
                    } else {
                        format!("declared teams: {}", declared.join(", "))
                    };
                    problems.push((
                        with_crd(Diagnostic::error(
                            "notify-unknown-team",
                            format!("`notify:` names team `{name}`, which `notification.teams` does not declare"),
                        ))
                        .with_hint(hint),
                        team,
                    ));
                }
            }
        });
    }
    let located: Vec<Diagnostic> = problems
        .into_iter()
        .map(|(d, node)| d.at(&cx.resolver.location(node.span)))
        .collect();
    cx.resolver.roots = roots;
    for d in located {
        cx.push(d);
    }
}

/// Whether `path` is an entry of a `when:` or `or:` list (`….when[2]`).
fn is_condition(path: &str) -> bool {
    path.rsplit_once('[').is_some_and(|(head, index)| {
        index
            .strip_suffix(']')
            .is_some_and(|i| i.parse::<usize>().is_ok())
            && (head.ends_with(".when") || head.ends_with(".or"))
    })
}

/// Whether a condition path is one of a `status.fields[i]` entry's own conditions.
fn in_status_fields(path: &str) -> bool {
    let Some((head, _)) = path.rsplit_once('[') else {
        return false;
    };
    let Some(field) = head
        .strip_suffix(".when")
        .or_else(|| head.strip_suffix(".or"))
    else {
        return false;
    };
    field.rsplit_once('[').is_some_and(|(list, index)| {
        index
            .strip_suffix(']')
            .is_some_and(|i| i.parse::<usize>().is_ok())
            && list.ends_with(".status.fields")
            && list.contains(".operatorBox.")
    })
}

/// The team name nodes of a `notify:` value (a list, or a map with `teams`).
fn teams_of(node: &Node) -> Vec<&Node> {
    let list = match &node.kind {
        NodeKind::Map(_) => node.get("teams"),
        _ => Some(node),
    };
    match list.map(|l| &l.kind) {
        Some(NodeKind::Seq(items)) => items.iter().filter(|i| i.as_str().is_some()).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_told_apart() {
        let status = "spec.crds.a.operatorBox.status.fields[0].when[1]";
        assert!(is_condition(status) && in_status_fields(status));
        let or = "spec.crds.a.operatorBox.status.fields[3].or[0]";
        assert!(is_condition(or) && in_status_fields(or));
        let resource = "spec.crds.a.operatorBox.onCreate.deployments[0].when[0]";
        assert!(is_condition(resource) && !in_status_fields(resource));
        assert!(!is_condition(
            "spec.crds.a.operatorBox.onCreate.configMaps[0].data"
        ));
    }

    fn errors(operator_box: &str) -> Vec<(String, String)> {
        let text = format!(
            "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: n}}
notification:
  teams: [{{name: ops, email: ops@example.test}}]
spec:
  crds:
    site:
      apiTypes: {{group: a.test, version: v1, kind: Site, plural: sites}}
      operatorBox:
{operator_box}"
        );
        match crate::load_text("/nonexistent/katalog.yaml", &text) {
            Ok(_) => Vec::new(),
            Err(d) => d
                .items
                .iter()
                .filter(|d| d.code.starts_with("notify-"))
                .map(|d| (d.code.to_owned(), d.path.clone().unwrap_or_default()))
                .collect(),
        }
    }

    #[test]
    fn undeclared_teams_and_other_places_are_refused() {
        let status = |notify: &str| {
            format!(
                "        status:
          fields:
            - path: phase
              value: x
              when:
                - {{field: spec.a, exists: true, notify: {notify}}}
"
            )
        };
        assert!(errors(&status("[ops]")).is_empty());
        assert_eq!(
            errors(&status("{teams: [ops, sre]}")),
            vec![(
                "notify-unknown-team".to_owned(),
                "spec.crds.site.operatorBox.status.fields[0].when[0].notify".to_owned()
            )]
        );
        assert_eq!(errors(&status("[]"))[0].0, "notify-no-team");
        let resource = "        onReconcile:
          configMaps:
            - name: x
              when: [{field: spec.a, exists: true, notify: [ops]}]
";
        assert_eq!(errors(resource)[0].0, "notify-unsupported-here");
    }
}
