//! Template fragments: what one component contributes, and the merge that assembles them.

use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;

use crate::{Error, Expr, LogicalId};

/// A resource type with a generated property builder.
pub trait ResourceType {
    /// The CloudFormation type name.
    const TYPE: &'static str;
    /// The properties set so far.
    fn into_properties(self) -> BTreeMap<String, Expr>;
}

/// A typed reference to a resource in a fragment: `Ref` and the type's `GetAtt` attributes.
///
/// Other components take handles, not ARN strings, so a wrong wiring fails to compile.
#[derive(Debug)]
pub struct Handle<T> {
    id: LogicalId,
    ty: PhantomData<fn() -> T>,
}

impl<T> Clone for Handle<T> {
    fn clone(&self) -> Self {
        Handle {
            id: self.id.clone(),
            ty: PhantomData,
        }
    }
}

impl<T> Handle<T> {
    /// A handle to a resource of type `T` defined elsewhere under `id`.
    pub fn new(id: LogicalId) -> Self {
        Handle {
            id,
            ty: PhantomData,
        }
    }

    /// The resource's logical id.
    pub fn id(&self) -> &LogicalId {
        &self.id
    }

    /// `Ref` to the resource.
    pub fn reference(&self) -> Expr {
        Expr::reference(&self.id)
    }
}

/// One resource of a template.
#[derive(Clone, Debug, PartialEq)]
pub struct Resource {
    /// The CloudFormation type name.
    pub type_name: &'static str,
    /// The resource's properties.
    pub properties: BTreeMap<String, Expr>,
    /// Explicit `DependsOn` entries.
    pub depends_on: BTreeSet<LogicalId>,
    /// The condition that decides whether the resource exists.
    pub condition: Option<LogicalId>,
    /// Policy rules this resource is exempt from, each with the reason (`Metadata.Policy`).
    pub suppressions: BTreeMap<String, String>,
}

/// A template parameter. Cross-stack values arrive through parameters that the deploy
/// manifest wires to another stack's outputs.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    /// What the parameter carries.
    pub description: String,
    /// The default value, when the parameter may be left out.
    pub default: Option<String>,
    /// A regular expression the value must match.
    pub allowed_pattern: Option<String>,
    /// The parameter's type: `String`, or an AWS-specific type that CloudFormation checks
    /// against the account when the stack is deployed (`AWS::EC2::AvailabilityZone::Name`).
    pub kind: &'static str,
}

impl Parameter {
    /// A `String` parameter without default.
    pub fn string(description: impl Into<String>) -> Self {
        Parameter {
            description: description.into(),
            default: None,
            allowed_pattern: None,
            kind: "String",
        }
    }

    /// An availability zone of the stack's region, which CloudFormation checks exists in the
    /// account when the stack is deployed (`AWS::EC2::AvailabilityZone::Name`).
    pub fn availability_zone(description: impl Into<String>) -> Self {
        Parameter {
            kind: "AWS::EC2::AvailabilityZone::Name",
            ..Parameter::string(description)
        }
    }

    /// Sets the default value.
    pub fn default_value(mut self, value: impl Into<String>) -> Self {
        self.default = Some(value.into());
        self
    }

    /// Sets the pattern the value must match.
    pub fn pattern(mut self, pattern: impl Into<String>) -> Self {
        self.allowed_pattern = Some(pattern.into());
        self
    }
}

/// A stack output.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    /// What the output carries.
    pub description: String,
    /// The value.
    pub value: Expr,
    /// The condition under which the output exists.
    pub condition: Option<LogicalId>,
}

/// The parameters, conditions, resources and outputs one component contributes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fragment {
    pub(crate) parameters: BTreeMap<LogicalId, Parameter>,
    pub(crate) conditions: BTreeMap<LogicalId, Expr>,
    pub(crate) resources: BTreeMap<LogicalId, Resource>,
    pub(crate) outputs: BTreeMap<LogicalId, Output>,
    pub(crate) transforms: std::collections::BTreeSet<String>,
}

impl Fragment {
    /// An empty fragment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a resource, checking the properties its schema requires.
    pub fn add<T: ResourceType>(&mut self, id: LogicalId, props: T) -> Result<Handle<T>, Error> {
        self.insert(id, props, None)
    }

    /// Adds a resource that exists only when `condition` holds.
    pub fn add_when<T: ResourceType>(
        &mut self,
        id: LogicalId,
        condition: &LogicalId,
        props: T,
    ) -> Result<Handle<T>, Error> {
        self.insert(id, props, Some(condition.clone()))
    }

    fn insert<T: ResourceType>(
        &mut self,
        id: LogicalId,
        props: T,
        condition: Option<LogicalId>,
    ) -> Result<Handle<T>, Error> {
        let properties = props.into_properties();
        if let Some(info) = crate::type_info(T::TYPE) {
            let missing: Vec<&str> = info
                .required
                .iter()
                .copied()
                .filter(|p| !properties.contains_key(*p))
                .collect();
            if !missing.is_empty() {
                return Err(Error::MissingRequired {
                    id: id.to_string(),
                    type_name: T::TYPE,
                    missing: missing.join(", "),
                });
            }
        }
        self.check_free(&id, "Resources")?;
        self.resources.insert(
            id.clone(),
            Resource {
                type_name: T::TYPE,
                properties,
                depends_on: BTreeSet::new(),
                condition,
                suppressions: BTreeMap::new(),
            },
        );
        Ok(Handle::new(id))
    }

    /// Makes resource `id` wait for `on`. Only needed where no `Ref`/`GetAtt` already orders
    /// them (a route needs the gateway attachment, for instance).
    pub fn depends_on(&mut self, id: &LogicalId, on: &LogicalId) {
        if let Some(r) = self.resources.get_mut(id) {
            r.depends_on.insert(on.clone());
        }
    }

    /// Exempts resource `id` from policy rule `rule`, for `reason` (shown in the template's
    /// metadata, where reviewers and the policy tests read it).
    pub fn suppress(&mut self, id: &LogicalId, rule: &str, reason: &str) {
        if let Some(r) = self.resources.get_mut(id) {
            r.suppressions.insert(rule.to_string(), reason.to_string());
        }
    }

    /// Adds a parameter and returns a `Ref` to it.
    pub fn parameter(&mut self, id: LogicalId, parameter: Parameter) -> Result<Expr, Error> {
        self.check_free(&id, "Parameters")?;
        let r = Expr::reference(&id);
        self.parameters.insert(id, parameter);
        Ok(r)
    }

    /// Adds a condition and returns its name for `Fn::If` and [`Fragment::add_when`].
    pub fn condition(&mut self, id: LogicalId, expr: Expr) -> Result<LogicalId, Error> {
        if self.conditions.contains_key(&id) {
            return Err(Error::Duplicate {
                section: "Conditions",
                id: id.to_string(),
            });
        }
        self.conditions.insert(id.clone(), expr);
        Ok(id)
    }

    /// Adds an output.
    pub fn output(
        &mut self,
        id: LogicalId,
        description: impl Into<String>,
        value: Expr,
    ) -> Result<(), Error> {
        self.output_when(id, None, description, value)
    }

    /// Adds an output that exists only when `condition` holds.
    pub fn output_when(
        &mut self,
        id: LogicalId,
        condition: Option<&LogicalId>,
        description: impl Into<String>,
        value: Expr,
    ) -> Result<(), Error> {
        if self.outputs.contains_key(&id) {
            return Err(Error::Duplicate {
                section: "Outputs",
                id: id.to_string(),
            });
        }
        self.outputs.insert(
            id,
            Output {
                description: description.into(),
                value,
                condition: condition.cloned(),
            },
        );
        Ok(())
    }

    /// Parameters and resources share one namespace for `Ref`.
    fn check_free(&self, id: &LogicalId, section: &'static str) -> Result<(), Error> {
        if self.resources.contains_key(id) || self.parameters.contains_key(id) {
            return Err(Error::Duplicate {
                section,
                id: id.to_string(),
            });
        }
        Ok(())
    }

    /// Declares a macro the template needs CloudFormation to run (its top-level `Transform`),
    /// e.g. `AWS::SecretsManager-2024-09-16` for a hosted rotation function. A template with a
    /// transform is deployed with `CAPABILITY_AUTO_EXPAND`.
    pub fn transform(&mut self, name: &str) {
        self.transforms.insert(name.to_string());
    }

    /// The transforms the fragment declares.
    pub fn transforms(&self) -> impl Iterator<Item = &str> {
        self.transforms.iter().map(String::as_str)
    }

    /// Moves everything of `other` into this fragment, rejecting any logical id both define.
    pub fn merge(&mut self, other: Fragment) -> Result<(), Error> {
        self.transforms.extend(other.transforms);
        for (id, p) in other.parameters {
            self.check_free(&id, "Parameters")?;
            self.parameters.insert(id, p);
        }
        for (id, c) in other.conditions {
            self.condition(id, c)?;
        }
        for (id, r) in other.resources {
            self.check_free(&id, "Resources")?;
            self.resources.insert(id, r);
        }
        for (id, o) in other.outputs {
            self.output_when(id, o.condition.as_ref(), o.description, o.value)?;
        }
        Ok(())
    }

    /// The resources, by logical id.
    pub fn resources(&self) -> &BTreeMap<LogicalId, Resource> {
        &self.resources
    }

    /// The outputs, by logical id.
    pub fn outputs(&self) -> &BTreeMap<LogicalId, Output> {
        &self.outputs
    }

    /// The parameters, by logical id.
    pub fn parameters(&self) -> &BTreeMap<LogicalId, Parameter> {
        &self.parameters
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::ec2;

    fn id(s: &str) -> LogicalId {
        LogicalId::new(s).unwrap()
    }

    #[test]
    fn merge_rejects_duplicate_ids_in_every_section() {
        let mut a = Fragment::new();
        a.add(id("Vpc"), ec2::Vpc::new().cidr_block("10.0.0.0/16"))
            .unwrap();
        let mut b = Fragment::new();
        b.add(id("Vpc"), ec2::Vpc::new().cidr_block("10.1.0.0/16"))
            .unwrap();
        assert_eq!(
            a.clone().merge(b),
            Err(Error::Duplicate {
                section: "Resources",
                id: "Vpc".into()
            })
        );

        let mut c = Fragment::new();
        c.parameter(id("Vpc"), Parameter::string("x")).unwrap();
        assert_eq!(
            a.clone().merge(c),
            Err(Error::Duplicate {
                section: "Parameters",
                id: "Vpc".into()
            })
        );

        let mut d = Fragment::new();
        d.output(id("Out"), "x", "1".into()).unwrap();
        let mut e = Fragment::new();
        e.output(id("Out"), "y", "2".into()).unwrap();
        assert!(matches!(
            d.merge(e),
            Err(Error::Duplicate {
                section: "Outputs",
                ..
            })
        ));

        let mut f = Fragment::new();
        f.condition(id("C"), Expr::equals("a", "b")).unwrap();
        let g = f.clone();
        assert!(matches!(
            f.merge(g),
            Err(Error::Duplicate {
                section: "Conditions",
                ..
            })
        ));
    }

    #[test]
    fn required_properties_are_checked_when_a_resource_is_added() {
        let mut f = Fragment::new();
        let err = f.add(id("Sub"), ec2::Subnet::new()).unwrap_err();
        assert_eq!(
            err,
            Error::MissingRequired {
                id: "Sub".into(),
                type_name: "AWS::EC2::Subnet",
                missing: "VpcId".into()
            }
        );
        assert!(f.resources().is_empty());
    }

    #[test]
    fn handles_give_typed_attributes() {
        let mut f = Fragment::new();
        let vpc = f
            .add(id("Vpc"), ec2::Vpc::new().cidr_block("10.0.0.0/16"))
            .unwrap();
        assert_eq!(vpc.attr_vpc_id(), Expr::get_att(vpc.id(), "VpcId"));
        assert_eq!(vpc.reference(), Expr::Ref("Vpc".into()));
    }
}
