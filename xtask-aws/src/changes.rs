//! Change-set contents as plain data: rendering for people, and the guard that refuses to
//! replace or remove stateful resources.

use std::io::Write;

/// Resource types that hold data (or the keys to it): replacing or removing one loses it.
pub const STATEFUL_TYPES: &[&str] = &[
    "AWS::Backup::BackupVault",
    "AWS::DynamoDB::GlobalTable",
    "AWS::DynamoDB::Table",
    "AWS::KMS::Key",
    "AWS::RDS::DBCluster",
    "AWS::RDS::GlobalCluster",
    "AWS::S3::Bucket",
    "AWS::SecretsManager::Secret",
];

/// One resource change of a change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// `Add`, `Modify`, `Remove`, `Import`, `Dynamic`.
    pub action: String,
    /// The logical id.
    pub logical_id: String,
    /// The resource type.
    pub resource_type: String,
    /// `True`, `False` or `Conditional`, for modifications.
    pub replacement: Option<String>,
    /// Property-level details, when AWS returns them.
    pub details: Vec<String>,
}

impl Change {
    /// Whether the change may replace the resource.
    pub fn replaces(&self) -> bool {
        matches!(self.replacement.as_deref(), Some("True" | "Conditional"))
    }

    /// Whether the change removes or may replace a stateful resource.
    pub fn endangers_data(&self) -> bool {
        STATEFUL_TYPES.contains(&self.resource_type.as_str())
            && (self.action == "Remove" || self.replaces())
    }
}

/// Prints the changes, one line each with its details below.
pub fn render(changes: &[Change], out: &mut dyn Write) -> std::io::Result<()> {
    if changes.is_empty() {
        return writeln!(out, "  no changes");
    }
    for c in changes {
        let sign = match c.action.as_str() {
            "Add" => "+",
            "Remove" => "-",
            "Modify" => "~",
            _ => "?",
        };
        let replacement = match c.replacement.as_deref() {
            Some("True") => "  (replacement)",
            Some("Conditional") => "  (may be replaced)",
            _ => "",
        };
        writeln!(
            out,
            "  {sign} {:<7} {:<44} {}{replacement}",
            c.action, c.logical_id, c.resource_type
        )?;
        for d in &c.details {
            writeln!(out, "        {d}")?;
        }
    }
    let count = |a: &str| changes.iter().filter(|c| c.action == a).count();
    writeln!(
        out,
        "  {} to add, {} to modify, {} to remove",
        count("Add"),
        count("Modify"),
        count("Remove")
    )
}

/// The changes the guard refuses, as lines to print.
pub fn refused(changes: &[Change]) -> Vec<String> {
    changes
        .iter()
        .filter(|c| c.endangers_data())
        .map(|c| {
            let what = if c.action == "Remove" {
                "removes"
            } else {
                "may replace"
            };
            format!("{what} {} ({})", c.logical_id, c.resource_type)
        })
        .collect()
}

/// Converts an SDK change into ours.
pub fn from_sdk(change: &aws_sdk_cloudformation::types::Change) -> Option<Change> {
    let rc = change.resource_change()?;
    let details = rc
        .details()
        .iter()
        .filter_map(|d| {
            let target = d.target()?;
            let name = target
                .name()
                .or(target.path())
                .unwrap_or_else(|| target.attribute().map(|a| a.as_str()).unwrap_or("?"));
            let mut line = format!(
                "{} {}",
                target.attribute().map(|a| a.as_str()).unwrap_or("Property"),
                name
            );
            if let (Some(before), Some(after)) = (target.before_value(), target.after_value()) {
                line.push_str(&format!(": {before} → {after}"));
            }
            if let Some(r) = target.requires_recreation()
                && r.as_str() != "Never"
            {
                line.push_str(&format!(" (recreation: {})", r.as_str()));
            }
            if let Some(cause) = d.causing_entity() {
                line.push_str(&format!(" because of {cause}"));
            }
            Some(line)
        })
        .collect();
    Some(Change {
        action: rc
            .action()
            .map(|a| a.as_str().to_string())
            .unwrap_or_default(),
        logical_id: rc.logical_resource_id().unwrap_or_default().to_string(),
        resource_type: rc.resource_type().unwrap_or_default().to_string(),
        replacement: rc.replacement().map(|r| r.as_str().to_string()),
        details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(action: &str, ty: &str, replacement: Option<&str>) -> Change {
        Change {
            action: action.into(),
            logical_id: "X".into(),
            resource_type: ty.into(),
            replacement: replacement.map(String::from),
            details: vec![],
        }
    }

    #[test]
    fn the_guard_refuses_only_data_loss() {
        assert!(change("Remove", "AWS::S3::Bucket", None).endangers_data());
        assert!(change("Modify", "AWS::RDS::DBCluster", Some("True")).endangers_data());
        assert!(change("Modify", "AWS::KMS::Key", Some("Conditional")).endangers_data());
        assert!(!change("Modify", "AWS::KMS::Key", Some("False")).endangers_data());
        assert!(!change("Add", "AWS::S3::Bucket", None).endangers_data());
        assert!(!change("Remove", "AWS::EC2::Route", None).endangers_data());
        assert_eq!(
            refused(&[change("Remove", "AWS::DynamoDB::GlobalTable", None)]),
            ["removes X (AWS::DynamoDB::GlobalTable)"]
        );
    }

    #[test]
    fn rendering_shows_action_replacement_and_counts() {
        let mut out = Vec::new();
        let mut m = change("Modify", "AWS::EC2::Subnet", Some("True"));
        m.details = vec!["Properties CidrBlock: a → b".into()];
        render(&[change("Add", "AWS::EC2::VPC", None), m], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("+ Add"), "{text}");
        assert!(text.contains("(replacement)"), "{text}");
        assert!(text.contains("CidrBlock: a → b"), "{text}");
        assert!(
            text.contains("1 to add, 1 to modify, 0 to remove"),
            "{text}"
        );
    }
}
