//! Typed CloudFormation core: templates, intrinsic functions, logical ids, tags and naming.
//!
//! Components build [`Fragment`]s out of generated resource builders (see [`aws`]), which have
//! one method per property of the CloudFormation registry schema, so a misspelt property does
//! not compile. Region crates merge fragments into a [`Template`], which is the only thing in
//! the workspace that serialises JSON.
//!
//! ```
//! use cfn::{aws::ec2, Expr, Fragment, LogicalId, Template};
//!
//! let mut fragment = Fragment::new();
//! let vpc = fragment.add(LogicalId::new("Vpc")?, ec2::Vpc::new().cidr_block("10.10.0.0/16"))?;
//! fragment.output(LogicalId::new("VpcId")?, "the VPC", vpc.reference())?;
//! let template = Template::new("example", fragment);
//! assert!(template.to_json_string().contains("\"Ref\": \"Vpc\""));
//! # Ok::<(), cfn::Error>(())
//! ```

pub mod arn;
mod expr;
mod fragment;
pub mod iam;
pub mod naming;
pub mod net;
pub mod rules;
pub mod states;
mod template;
pub mod testing;

pub use expr::{Expr, Pseudo};
pub use fragment::{Fragment, Handle, Output, Parameter, Resource, ResourceType};
pub use template::{Tags, Template, tag};

/// Generated builders, one module per AWS service, from the vendored registry schemas.
pub mod aws {
    include!(concat!(env!("OUT_DIR"), "/resources.rs"));
}

/// How a resource type carries its tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagStyle {
    /// A list of `{"Key": …, "Value": …}` objects.
    List,
    /// A map from key to value.
    Map,
}

/// What the registry schema says about one resource type.
#[derive(Debug)]
pub struct TypeInfo {
    /// The CloudFormation type name, e.g. `AWS::EC2::VPC`.
    pub type_name: &'static str,
    /// Properties the schema requires.
    pub required: &'static [&'static str],
    /// The property that holds tags and its shape, when the type is taggable.
    pub tag_property: Option<(&'static str, TagStyle)>,
    /// Writable properties that are the resource's physical name (its primary identifier).
    pub name_properties: &'static [&'static str],
    /// Read-only attributes, as `Fn::GetAtt` names.
    pub attributes: &'static [&'static str],
    /// Writable properties.
    pub properties: &'static [&'static str],
}

/// The schema facts of `type_name`, when the type is vendored.
pub fn type_info(type_name: &str) -> Option<&'static TypeInfo> {
    aws::TYPE_INFO
        .binary_search_by(|t| t.type_name.cmp(type_name))
        .ok()
        .map(|i| &aws::TYPE_INFO[i])
}

/// Errors raised while building templates.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Error {
    /// A logical id that CloudFormation would reject.
    #[error(
        "logical id {0:?} is invalid: it must be 1 to 255 ASCII letters and digits, starting with a letter"
    )]
    InvalidLogicalId(String),
    /// Two fragments define the same logical id in the same section.
    #[error("duplicate logical id {id:?} in {section}: each id may be defined once per template")]
    Duplicate {
        /// The template section (Resources, Parameters, …).
        section: &'static str,
        /// The logical id defined twice.
        id: String,
    },
    /// A resource lacks a property its schema requires.
    #[error("resource {id} ({type_name}) lacks required properties: {missing}")]
    MissingRequired {
        /// The resource's logical id.
        id: String,
        /// The resource type.
        type_name: &'static str,
        /// The missing property names, comma separated.
        missing: String,
    },
    /// A component's props break its rules; every problem is listed.
    #[error("{component} props: {}", problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid {
        /// The component.
        component: &'static str,
        /// Every problem found.
        problems: Vec<Problem>,
    },
    /// A reference names a logical id that the template does not define.
    #[error(
        "{from} refers to {target:?}, which is not a parameter, resource or condition of the template"
    )]
    DanglingReference {
        /// Where the reference is.
        from: String,
        /// The missing id.
        target: String,
    },
}

/// One broken rule of a component's props: the field, and a message with the bad value and
/// the fix ("0 is not allowed: use 1 to 10"), as CDK's validation says it. Each component
/// exposes its rules (`<component>::rules`), its props return every problem at once
/// (`problems()`), and `build` refuses props that have any; the environment crate runs the same
/// rules over configuration and names the file and key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The props field (or configuration key) at fault.
    pub field: String,
    /// What is wrong, with the bad value and what is allowed.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every problem a set of rules found; empty when the props are valid.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Problems(Vec<Problem>);

impl Problems {
    /// No problem yet.
    pub fn new() -> Self {
        Problems(Vec::new())
    }

    /// Records `field`'s problem, if a rule found one.
    pub fn check(&mut self, field: &str, found: Option<String>) -> &mut Self {
        if let Some(message) = found {
            self.0.push(Problem {
                field: field.to_string(),
                message,
            });
        }
        self
    }

    /// The problems found.
    pub fn into_vec(self) -> Vec<Problem> {
        self.0
    }

    /// `Ok` when there is none, else the error naming `component` and every problem.
    pub fn into_result(self, component: &'static str) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid {
                component,
                problems: self.0,
            })
        }
    }
}

impl From<Vec<Problem>> for Problems {
    fn from(problems: Vec<Problem>) -> Self {
        Problems(problems)
    }
}

/// A validated CloudFormation logical id.
///
/// Logical ids are part of the deployed contract: renaming one replaces the resource. They are
/// made from fixed component prefixes and stable keys (AZ letters, purposes), never from
/// ordering.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogicalId(String);

impl LogicalId {
    /// Validates `id`: 1 to 255 ASCII alphanumerics, starting with a letter.
    pub fn new(id: impl Into<String>) -> Result<Self, Error> {
        let id = id.into();
        let valid = !id.is_empty()
            && id.len() <= 255
            && id.starts_with(|c: char| c.is_ascii_alphabetic())
            && id.chars().all(|c| c.is_ascii_alphanumeric());
        if valid {
            Ok(LogicalId(id))
        } else {
            Err(Error::InvalidLogicalId(id))
        }
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for LogicalId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_ids_are_validated() {
        assert!(LogicalId::new("PrivateSubnetA").is_ok());
        for bad in ["", "1Vpc", "Vpc-1", "Vpc_1", "Vpč", &"A".repeat(256)] {
            assert_eq!(
                LogicalId::new(bad),
                Err(Error::InvalidLogicalId(bad.to_string()))
            );
        }
    }

    #[test]
    fn type_info_comes_from_the_schemas() {
        let bucket = type_info("AWS::S3::Bucket").unwrap();
        assert_eq!(bucket.tag_property, Some(("Tags", TagStyle::List)));
        assert_eq!(bucket.name_properties, &["BucketName"]);
        assert!(bucket.attributes.contains(&"Arn"));
        let parameter = type_info("AWS::SSM::Parameter").unwrap();
        assert_eq!(parameter.tag_property, Some(("Tags", TagStyle::Map)));
        assert!(
            type_info("AWS::EC2::VPC")
                .unwrap()
                .name_properties
                .is_empty()
        );
        assert!(type_info("AWS::Nope::Nope").is_none());
        let mut names: Vec<_> = aws::TYPE_INFO.iter().map(|t| t.type_name).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            aws::TYPE_INFO
                .iter()
                .map(|t| t.type_name)
                .collect::<Vec<_>>(),
            "TYPE_INFO must be sorted for binary search"
        );
    }
}
