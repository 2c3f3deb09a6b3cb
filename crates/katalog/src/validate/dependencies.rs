//! `dependsOn`: self-dependency, unknown or disabled dependencies, cycles (§18.2 #3b).

use super::Cx;
use crate::model::Crd;

pub fn check(cx: &mut Cx<'_>) {
    for crd in &cx.katalog.crds {
        references(cx, crd);
    }
    cycles(cx);
}

fn references(cx: &mut Cx<'_>, crd: &Crd) {
    let names: Vec<&str> = cx.katalog.crds.iter().map(|c| c.name.as_str()).collect();
    for dep in crd.depends_on() {
        let name = dep.name.value.as_str();
        let rest = format!("dependsOn.{name}");
        if name == crd.name {
            cx.crd_error(
                crd,
                Some(&dep.name.at),
                "dependson-self",
                &rest,
                format!("CRD `{name}` depends on itself"),
                "remove the entry",
            );
            continue;
        }
        match cx.katalog.crd(name) {
            None => {
                let hint = match crate::de::did_you_mean(name, &names) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => format!("declared CRDs: {}", names.join(", ")),
                };
                cx.crd_error(
                    crd,
                    Some(&dep.name.at),
                    "dependson-unknown",
                    &rest,
                    format!(
                        "CRD `{}` depends on `{name}`, which is not declared in spec.crds",
                        crd.name
                    ),
                    hint,
                );
            }
            Some(target) if !target.enabled && crd.enabled => {
                cx.crd_error(
                    crd,
                    Some(&dep.name.at),
                    "dependson-disabled",
                    &rest,
                    format!("CRD `{}` depends on `{name}`, which is disabled", crd.name),
                    format!("enable `{name}` or drop the dependency"),
                );
            }
            Some(_) => {}
        }
    }
}

/// Reports each dependency cycle once, at the first CRD of the cycle in declaration order.
fn cycles(cx: &mut Cx<'_>) {
    let crds = &cx.katalog.crds;
    let index = |name: &str| crds.iter().position(|c| c.name == name);
    let edges: Vec<Vec<usize>> = crds
        .iter()
        .map(|c| {
            c.depends_on()
                .iter()
                .filter_map(|d| index(&d.name.value))
                .filter(|&j| crds[j].name != c.name)
                .collect()
        })
        .collect();
    let mut reported: Vec<Vec<usize>> = Vec::new();
    for start in 0..crds.len() {
        if let Some(cycle) = find_cycle(start, &edges) {
            let mut key = cycle.clone();
            key.sort_unstable();
            if reported.contains(&key) {
                continue;
            }
            reported.push(key);
            let first = *cycle.iter().min().unwrap_or(&start);
            let rotation = cycle.iter().position(|&i| i == first).unwrap_or(0);
            let mut names: Vec<&str> = cycle[rotation..]
                .iter()
                .chain(&cycle[..rotation])
                .map(|&i| crds[i].name.as_str())
                .collect();
            names.push(names[0]);
            let crd = &crds[first];
            let dep_at = crd
                .depends_on()
                .iter()
                .find(|d| cycle.contains(&index(&d.name.value).unwrap_or(usize::MAX)))
                .map(|d| d.name.at.clone());
            cx.crd_error(
                crd,
                dep_at.as_ref(),
                "dependson-cycle",
                "dependsOn",
                format!(
                    "dependency cycle detected involving `{}`: {}",
                    crd.name,
                    names.join(" -> ")
                ),
                "remove one dependsOn edge of the cycle",
            );
        }
    }
}

/// A cycle through `start`, as the node indices along it.
fn find_cycle(start: usize, edges: &[Vec<usize>]) -> Option<Vec<usize>> {
    let mut path = vec![start];
    let mut next = vec![0usize];
    let mut visited = vec![false; edges.len()];
    visited[start] = true;
    while let Some(&node) = path.last() {
        let i = next.last_mut()?;
        if let Some(&to) = edges[node].get(*i) {
            *i += 1;
            if to == start {
                return Some(path);
            }
            if !visited[to] {
                visited[to] = true;
                path.push(to);
                next.push(0);
            }
        } else {
            path.pop();
            next.pop();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::find_cycle;

    #[test]
    fn cycles_are_found_through_their_start() {
        let edges = vec![vec![1], vec![2], vec![0], vec![0]];
        assert_eq!(find_cycle(0, &edges), Some(vec![0, 1, 2]));
        assert_eq!(find_cycle(3, &edges), None);
        assert_eq!(find_cycle(0, &[vec![], vec![0]]), None);
    }
}
