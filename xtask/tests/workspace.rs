//! The workspace's shape, read from its graph: every component crate is assembled by a region
//! and named in ARCHITECTURE.md's code map, and the offline tool never links the AWS SDK.

use std::collections::{BTreeMap, BTreeSet};

use xtask::workspace;

#[test]
fn every_component_crate_is_assembled_by_a_region_and_on_the_code_map() {
    let root = xtask::workspace_root();
    let metadata = workspace::packages(&root).unwrap();
    let assembled: BTreeSet<String> = workspace::bills(&metadata)
        .unwrap()
        .into_iter()
        .flat_map(|b| b.components)
        .collect();
    let architecture = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let code_map = architecture
        .split("## Code map")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("ARCHITECTURE.md has a code map");
    let mut problems = Vec::new();
    let mut components = 0;
    for package in metadata.workspace_packages() {
        let rel = package
            .manifest_path
            .as_std_path()
            .strip_prefix(&root)
            .unwrap()
            .to_path_buf();
        if !rel.starts_with("components") {
            continue;
        }
        components += 1;
        let name = package.name.as_str();
        if !assembled.contains(name) {
            problems.push(format!(
                "{name}: no region crate assembles it (add it to a region's features)"
            ));
        }
        if !code_map.contains(&format!("`components/{name}`")) {
            problems.push(format!(
                "{name}: ARCHITECTURE.md's code map does not name `components/{name}`"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(components >= 15, "only {components} component crates found");
}

/// Every package `start` can reach in Cargo.lock (normal, build and dev dependencies alike: an
/// over-approximation of what it links).
fn lock_closure(lock: &toml::Value, start: &str) -> BTreeSet<String> {
    let packages = lock["package"].as_array().unwrap();
    let deps: BTreeMap<&str, Vec<&str>> = packages
        .iter()
        .map(|p| {
            let name = p["name"].as_str().unwrap();
            let list = p
                .get("dependencies")
                .and_then(|d| d.as_array())
                .map(|d| {
                    d.iter()
                        // "name" or "name version" when two versions are locked.
                        .map(|n| n.as_str().unwrap().split(' ').next().unwrap())
                        .collect()
                })
                .unwrap_or_default();
            (name, list)
        })
        .collect();
    let mut seen = BTreeSet::new();
    let mut queue = vec![start];
    while let Some(name) = queue.pop() {
        if seen.insert(name.to_string()) {
            queue.extend(deps.get(name).into_iter().flatten().copied());
        }
    }
    seen
}

fn is_aws_sdk(name: &str) -> bool {
    name.starts_with("aws-") || name.starts_with("hyper") || name == "tokio"
}

#[test]
fn the_offline_tool_never_links_the_aws_sdk() {
    let lock = std::fs::read_to_string(xtask::workspace_root().join("Cargo.lock")).unwrap();
    let lock: toml::Value = toml::from_str(&lock).unwrap();
    let offline: Vec<String> = lock_closure(&lock, "xtask")
        .into_iter()
        .filter(|n| is_aws_sdk(n))
        .collect();
    assert!(
        offline.is_empty(),
        "xtask reaches {offline:?}: code that calls AWS belongs in xtask-aws, so that synth never compiles the SDK"
    );
    // The check sees the SDK where it is.
    let online = lock_closure(&lock, "xtask-aws");
    assert!(online.contains("aws-sdk-cloudformation"), "{online:?}");
    assert!(online.contains("xtask"), "{online:?}");
}
