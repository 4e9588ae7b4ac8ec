//! The workspace graph, read with `cargo metadata`: which component crates each region crate
//! assembles through its default features (its bill of materials), and which crates the AWS-free
//! half of the tool depends on.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use cargo_metadata::{DependencyKind, Metadata, MetadataCommand, Package};

/// The region crates, in deploy order.
pub const REGIONS: [&str; 2] = ["primary", "secondary"];

/// The crates under `components/` that every region uses as its core rather than assembles.
pub const CORE: [&str; 2] = ["cfn", "environment"];

/// The workspace's own packages, from `cargo metadata --no-deps` (no network, no resolution).
pub fn packages(root: &Path) -> Result<Metadata> {
    MetadataCommand::new()
        .manifest_path(root.join("Cargo.toml"))
        .no_deps()
        .exec()
        .context("cargo metadata failed")
}

/// One region crate's bill of materials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bill {
    /// The region crate.
    pub region: String,
    /// The component crates (under `components/`) it assembles with its default features,
    /// directly or through another workspace crate such as `foundation`.
    pub components: BTreeSet<String>,
}

impl Bill {
    /// The components it assembles, without the [`CORE`] every region uses.
    pub fn assembled(&self) -> impl Iterator<Item = &str> {
        self.components
            .iter()
            .map(String::as_str)
            .filter(|c| !CORE.contains(c))
    }
}

/// The bill of materials of every region crate in [`REGIONS`].
pub fn bills(metadata: &Metadata) -> Result<Vec<Bill>> {
    REGIONS
        .iter()
        .map(|region| {
            Ok(Bill {
                region: region.to_string(),
                components: components_of(metadata, region)?,
            })
        })
        .collect()
}

/// The crates under `components/` that `region` builds with its default features.
pub fn components_of(metadata: &Metadata, region: &str) -> Result<BTreeSet<String>> {
    let by_name: BTreeMap<&str, &Package> = metadata
        .workspace_packages()
        .into_iter()
        .map(|p| (p.name.as_str(), p))
        .collect();
    if !by_name.contains_key(region) {
        bail!("the workspace has no crate {region}");
    }
    let root = metadata.workspace_root.as_std_path();
    let enabled = enabled_crates(&by_name, region);
    Ok(enabled
        .into_iter()
        .filter(|name| {
            by_name.get(name.as_str()).is_some_and(|p| {
                p.manifest_path
                    .as_std_path()
                    .strip_prefix(root)
                    .is_ok_and(|rel| rel.starts_with("components"))
            })
        })
        .collect())
}

/// Every workspace crate that `start` (with its default features) pulls in as a normal
/// dependency, following feature strings (`feature`, `dep:crate`, `crate/feature`) the way
/// Cargo does.
fn enabled_crates(by_name: &BTreeMap<&str, &Package>, start: &str) -> BTreeSet<String> {
    let mut features: BTreeSet<(String, String)> = BTreeSet::new();
    let mut crates: BTreeSet<String> = BTreeSet::new();
    let mut queue: Vec<(String, Option<String>)> =
        vec![(start.to_string(), Some("default".to_string()))];
    while let Some((krate, feature)) = queue.pop() {
        let Some(package) = by_name.get(krate.as_str()) else {
            continue; // not a workspace crate
        };
        if crates.insert(krate.clone()) {
            // A crate's mandatory normal dependencies come with it.
            for dep in &package.dependencies {
                if dep.kind == DependencyKind::Normal && !dep.optional {
                    queue.push((dep.name.clone(), default_of(dep.uses_default_features)));
                }
            }
        }
        let Some(feature) = feature else { continue };
        if !features.insert((krate.clone(), feature.clone())) {
            continue;
        }
        for item in package.features.get(&feature).into_iter().flatten() {
            if let Some(dep) = item.strip_prefix("dep:") {
                queue.push((dep.to_string(), optional_default(package, dep)));
            } else if let Some((dep, feature)) = item.split_once('/') {
                let dep = dep.trim_end_matches('?');
                queue.push((dep.to_string(), Some(feature.to_string())));
                queue.push((dep.to_string(), optional_default(package, dep)));
            } else {
                queue.push((krate.clone(), Some(item.clone())));
            }
        }
    }
    crates.remove(start);
    crates
}

fn default_of(uses_default_features: bool) -> Option<String> {
    uses_default_features.then(|| "default".to_string())
}

fn optional_default(package: &Package, dep: &str) -> Option<String> {
    let uses = package
        .dependencies
        .iter()
        .find(|d| d.name == dep)
        .is_none_or(|d| d.uses_default_features);
    default_of(uses)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata() -> Metadata {
        packages(&crate::workspace_root()).unwrap()
    }

    #[test]
    fn the_primary_assembles_what_its_features_say_and_no_runbook() {
        let m = metadata();
        let primary = components_of(&m, "primary").unwrap();
        for c in ["aurora", "keys", "network", "service", "storage", "cfn"] {
            assert!(primary.contains(c), "{c} missing from {primary:?}");
        }
        assert!(!primary.contains("runbook"), "{primary:?}");
        let secondary = components_of(&m, "secondary").unwrap();
        assert!(secondary.contains("runbook"), "{secondary:?}");
    }

    #[test]
    fn an_unknown_region_crate_is_refused() {
        let e = components_of(&metadata(), "tertiary").unwrap_err();
        assert!(e.to_string().contains("no crate tertiary"), "{e}");
    }
}
