//! The primary region's stack (us-east-1 by default), as a bill of materials: each component
//! its Cargo feature enables, wired through typed handles.
//!
//! The primary is deployed twice per rollout: first on its own (phase `primary`), then again
//! with the secondary's outputs as parameters (phase `primary-link`), which adds what needs the
//! secondary to exist: today the routes through the peering connection.

use cfn::{Error, Fragment, Template};
use environment::{Environment, RegionRole};

/// Names of the parameters the deploy manifest feeds and of the outputs it reads.
pub mod wiring {
    /// Parameter: the peering connection the secondary requested (primary-link phase).
    pub const PEERING_CONNECTION_ID: &str = "PeeringConnectionId";
    /// Output: the primary VPC, which the secondary peers with.
    pub const VPC_ID: &str = "VpcId";
}

const ROLE: RegionRole = RegionRole::Primary;

/// Builds the primary region's template for `env`.
#[allow(unused_variables, unused_mut)]
pub fn stack(env: &Environment) -> Result<Template, Error> {
    let mut body = Fragment::new();
    let base = foundation::build(env, ROLE, &mut body)?;

    #[cfg(feature = "peering")]
    {
        use cfn::{Expr, LogicalId, Parameter};
        let connection_id = body.parameter(
            LogicalId::new(wiring::PEERING_CONNECTION_ID)?,
            Parameter::string(
                "Peering connection requested by the secondary stack; empty until the primary-link phase",
            )
            .default_value("")
            .pattern("^(pcx-[0-9a-f]+)?$"),
        )?;
        let linked = body.condition(
            LogicalId::new("PeeringLinked")?,
            !Expr::equals(connection_id.clone(), ""),
        )?;
        body.merge(peering::accepter_routes(&peering::AccepterRoutesProps {
            connection_id,
            condition: linked,
            peer_cidr: env.vpc_cidr(RegionRole::Secondary),
            route_tables: base.network.internal_route_table_refs(),
        })?)?;
    }

    foundation::finish(env, ROLE, body)
}
