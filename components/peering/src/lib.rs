//! Inter-region VPC peering between the primary and the secondary VPC.
//!
//! The secondary stack requests the connection ([`requester`]): it names the primary VPC (a
//! parameter fed from the primary stack's outputs) and `PeerRegion`. Within one account
//! CloudFormation accepts an inter-region request itself, so no accepter resource is needed.
//! The secondary's routes to the primary block come with the connection; the primary's routes to
//! the secondary block ([`accepter_routes`]) exist only once the connection id is known, in the
//! primary-link phase, so they carry the condition that the id was given.
//!
//! ```
//! use cfn::{Expr, LogicalId};
//! use cfn::naming::{Namer, Suffix};
//!
//! let props = peering::RequesterProps {
//!     namer: Namer::new(Suffix::parse("qa").unwrap(), "us-east-2"),
//!     vpc_id: Expr::from("vpc-1"),
//!     peer_vpc_id: Expr::from("vpc-2"),
//!     peer_region: "us-east-1".into(),
//!     peer_cidr: "10.10.0.0/16".parse().unwrap(),
//!     route_tables: vec![("a".into(), Expr::from("rtb-1"))],
//! };
//! let (fragment, connection) = peering::requester(&props)?;
//! assert_eq!(fragment.resources().len(), 2);
//! # let _ = connection;
//! # Ok::<(), cfn::Error>(())
//! ```

use cfn::aws::ec2;
use cfn::naming::{self, Namer};
use cfn::net::Cidr;
use cfn::{Error, Expr, Fragment, Handle, LogicalId, tag};

/// Properties of the requesting side.
#[derive(Clone, Debug)]
pub struct RequesterProps {
    /// Names the connection. Required.
    pub namer: Namer,
    /// The requesting (this stack's) VPC. Required.
    pub vpc_id: Expr,
    /// The peer VPC, in the other region. Required.
    pub peer_vpc_id: Expr,
    /// The peer VPC's region. Required.
    pub peer_region: String,
    /// The peer VPC's block, routed through the connection. Required.
    pub peer_cidr: Cidr,
    /// This VPC's route tables that reach the peer, each with a stable key (zone letter…).
    /// Required.
    pub route_tables: Vec<(String, Expr)>,
}

/// Builds the connection and this side's routes.
pub fn requester(
    props: &RequesterProps,
) -> Result<(Fragment, Handle<ec2::VpcPeeringConnection>), Error> {
    let mut f = Fragment::new();
    let connection = f.add(
        LogicalId::new("PeeringConnection")?,
        ec2::VpcPeeringConnection::new()
            .vpc_id(props.vpc_id.clone())
            .peer_vpc_id(props.peer_vpc_id.clone())
            .peer_region(props.peer_region.as_str())
            .tags(vec![tag("Name", props.namer.name(&naming::PEERING, None))]),
    )?;
    for (key, table) in &props.route_tables {
        f.add(
            route_id(key)?,
            ec2::Route::new()
                .route_table_id(table.clone())
                .destination_cidr_block(props.peer_cidr.to_string())
                .vpc_peering_connection_id(connection.reference()),
        )?;
    }
    f.output(
        LogicalId::new("PeeringConnectionId")?,
        "The inter-region VPC peering connection",
        connection.reference(),
    )?;
    Ok((f, connection))
}

/// Properties of the accepting side's routes.
#[derive(Clone, Debug)]
pub struct AccepterRoutesProps {
    /// The connection id, known once the requester exists. Required.
    pub connection_id: Expr,
    /// The condition under which the routes exist (the id was given). Required.
    pub condition: LogicalId,
    /// The requester VPC's block. Required.
    pub peer_cidr: Cidr,
    /// This VPC's route tables that reach the peer, each with a stable key. Required.
    pub route_tables: Vec<(String, Expr)>,
}

/// Builds the accepting side's routes to the requester's block.
pub fn accepter_routes(props: &AccepterRoutesProps) -> Result<Fragment, Error> {
    let mut f = Fragment::new();
    for (key, table) in &props.route_tables {
        f.add_when(
            route_id(key)?,
            &props.condition,
            ec2::Route::new()
                .route_table_id(table.clone())
                .destination_cidr_block(props.peer_cidr.to_string())
                .vpc_peering_connection_id(props.connection_id.clone()),
        )?;
    }
    Ok(f)
}

fn route_id(key: &str) -> Result<LogicalId, Error> {
    let mut c = key.chars();
    let key = c
        .next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default();
    LogicalId::new(format!("PeeringRoute{key}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cfn::Template;
    use cfn::naming::Suffix;
    use cfn::testing::{assert_has_resource_properties, assert_resource_count};
    use serde_json::json;

    fn tables() -> Vec<(String, Expr)> {
        vec![
            ("a".into(), Expr::from("rtb-a")),
            ("isolated".into(), Expr::from("rtb-i")),
        ]
    }

    #[test]
    fn requester_names_the_peer_region_and_routes_to_its_block() {
        let (f, _) = requester(&RequesterProps {
            namer: Namer::new(Suffix::parse("qa").unwrap(), "us-east-2"),
            vpc_id: "vpc-2".into(),
            peer_vpc_id: "vpc-1".into(),
            peer_region: "us-east-1".into(),
            peer_cidr: "10.10.0.0/16".parse().unwrap(),
            route_tables: tables(),
        })
        .unwrap();
        let t = Template::new("t", f).to_json();
        assert_has_resource_properties(
            &t,
            "AWS::EC2::VPCPeeringConnection",
            json!({"PeerRegion": "us-east-1", "PeerVpcId": "vpc-1", "VpcId": "vpc-2"}),
        );
        assert_resource_count(&t, "AWS::EC2::Route", 2);
        assert_eq!(
            t["Resources"]["PeeringRouteIsolated"]["Properties"],
            json!({"RouteTableId": "rtb-i", "DestinationCidrBlock": "10.10.0.0/16", "VpcPeeringConnectionId": {"Ref": "PeeringConnection"}})
        );
    }

    #[test]
    fn accepter_routes_exist_only_under_the_condition() {
        let cond = LogicalId::new("IsLinked").unwrap();
        let f = accepter_routes(&AccepterRoutesProps {
            connection_id: "pcx-1".into(),
            condition: cond,
            peer_cidr: "10.20.0.0/16".parse().unwrap(),
            route_tables: tables(),
        })
        .unwrap();
        let t = Template::new("t", f).to_json();
        for r in ["PeeringRouteA", "PeeringRouteIsolated"] {
            assert_eq!(t["Resources"][r]["Condition"], "IsLinked");
            assert_eq!(
                t["Resources"][r]["Properties"]["DestinationCidrBlock"],
                "10.20.0.0/16"
            );
        }
    }
}
