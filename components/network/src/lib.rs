//! One region's VPC: three explicitly named availability zones, each with a public subnet (load
//! balancer, NAT), a private subnet (tasks) and an isolated subnet (database); NAT gateways per
//! policy; S3 and DynamoDB gateway endpoints; the interface endpoints Fargate needs; and flow
//! logs to a log group encrypted with the region's key.
//!
//! ```
//! use cfn::naming::{Namer, Suffix};
//!
//! let namer = Namer::new(Suffix::parse("qa").unwrap(), "us-east-1");
//! let (_, key) = keys::build(&keys::KeysProps {
//!     namer: namer.clone(), pending_window_days: 7, via_services: vec![], cloudwatch_logs: true, service_principals: vec![], recovery_account: None,
//! })?;
//! let props = network::NetworkProps::new(
//!     namer,
//!     "10.10.0.0/16".parse().unwrap(),
//!     ["us-east-1a", "us-east-1b", "us-east-1c"].map(String::from),
//!     &key,
//! );
//! let (fragment, net) = network::build(&props)?;
//! assert_eq!(net.private_subnets.len(), 3);
//! # let _ = fragment;
//! # Ok::<(), cfn::Error>(())
//! ```
//!
//! Subnets are carved from the VPC block at prefix + 4: public subnets take blocks 0–2,
//! private 3–5 and isolated 6–8, so a /16 VPC gets /20 subnets of 4,096 addresses each.

use cfn::aws::{ec2, iam, logs};
use cfn::iam::{Statement, assume_role_by, policy};
use cfn::naming::{self, Namer};
use cfn::net::Cidr;
use cfn::{Error, Expr, Fragment, Handle, LogicalId, Parameter, tag};
use keys::RegionKey;

/// The interface endpoints Fargate tasks in private subnets need: image pulls (ecr.api,
/// ecr.dkr), logging, and secrets and parameters injected at start.
pub const INTERFACE_ENDPOINTS: &[&str] = &["ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm"];

/// How many NAT gateways the VPC gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NatPolicy {
    /// One per availability zone, each zone's private subnet using its own.
    PerAz,
    /// One, in the first zone, shared by every private subnet.
    Single,
}

/// Properties of one region's network.
#[derive(Clone, Debug)]
pub struct NetworkProps {
    /// Names the VPC and its parts. Required.
    pub namer: Namer,
    /// The VPC's IPv4 block, /16 to /20. Required.
    pub vpc_cidr: Cidr,
    /// The three availability zones, named explicitly (`us-east-1a`, …). Required.
    pub availability_zones: [String; 3],
    /// NAT gateway policy. Default: [`NatPolicy::PerAz`].
    pub nat: NatPolicy,
    /// Flow-log retention in days (a CloudWatch Logs value). Default: 365.
    pub flow_log_retention_days: u32,
    /// ARN of the key that encrypts the flow-log group. Required.
    pub log_key_arn: Expr,
    /// Interface endpoints to create. Default: [`INTERFACE_ENDPOINTS`].
    pub interface_endpoints: Vec<String>,
}

impl NetworkProps {
    /// Props with the defaults for everything but placement and key.
    pub fn new(
        namer: Namer,
        vpc_cidr: Cidr,
        availability_zones: [String; 3],
        key: &RegionKey,
    ) -> Self {
        NetworkProps {
            namer,
            vpc_cidr,
            availability_zones,
            nat: NatPolicy::PerAz,
            flow_log_retention_days: 365,
            log_key_arn: key.arn(),
            interface_endpoints: INTERFACE_ENDPOINTS.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// What other components use of the network.
#[derive(Clone, Debug)]
pub struct Network {
    /// The VPC.
    pub vpc: Handle<ec2::Vpc>,
    /// The VPC's block.
    pub cidr: Cidr,
    /// Public subnets (load balancers, NAT), one per zone.
    pub public_subnets: Vec<Handle<ec2::Subnet>>,
    /// Private subnets with NAT egress (tasks), one per zone.
    pub private_subnets: Vec<Handle<ec2::Subnet>>,
    /// Isolated subnets without internet route (database), one per zone.
    pub isolated_subnets: Vec<Handle<ec2::Subnet>>,
    /// Route tables that reach other networks (peering): each private and the isolated one,
    /// with the zone letter (`a`, `b`, `c`) or `isolated` as a stable key.
    pub internal_route_tables: Vec<(String, Handle<ec2::RouteTable>)>,
    /// The security group of the interface endpoints.
    pub endpoint_security_group: Handle<ec2::SecurityGroup>,
    /// The security group of the application's tasks: the database and other private
    /// services admit traffic from this group only.
    pub app_security_group: Handle<ec2::SecurityGroup>,
}

impl Network {
    /// The VPC id.
    pub fn vpc_id(&self) -> Expr {
        self.vpc.reference()
    }

    /// The route tables that reach other networks, as (stable key, `Ref`) pairs.
    pub fn internal_route_table_refs(&self) -> Vec<(String, Expr)> {
        self.internal_route_tables
            .iter()
            .map(|(k, rt)| (k.clone(), rt.reference()))
            .collect()
    }

    /// Subnet ids of a tier, for resource properties.
    pub fn ids(subnets: &[Handle<ec2::Subnet>]) -> Expr {
        Expr::List(subnets.iter().map(Handle::reference).collect())
    }
}

/// An egress rule that matches no traffic. A security group given only this rule loses the
/// default allow-all egress rule: for groups that answer and never open connections.
pub fn no_egress() -> ec2::security_group::Egress {
    ec2::security_group::Egress::new()
        .ip_protocol("icmp")
        .from_port(252)
        .to_port(86)
        .cidr_ip("255.255.255.255/32")
        .description("No egress")
}

fn id(s: impl Into<String>) -> Result<LogicalId, Error> {
    LogicalId::new(s)
}

/// The zone letter of an AZ name, upper-cased for logical ids (`us-east-1a` → `A`).
fn zone_key(az: &str) -> String {
    az.chars()
        .last()
        .map(|c| c.to_ascii_uppercase().to_string())
        .unwrap_or_default()
}

/// Builds the network.
pub fn build(props: &NetworkProps) -> Result<(Fragment, Network), Error> {
    cfn::Problems::from(props.problems()).into_result("network")?;
    let n = &props.namer;
    let mut f = Fragment::new();
    let vpc = f.add(
        id("Vpc")?,
        ec2::Vpc::new()
            .cidr_block(props.vpc_cidr.to_string())
            .enable_dns_hostnames(true)
            .enable_dns_support(true)
            .tags(vec![tag("Name", n.name(&naming::VPC, None))]),
    )?;

    let igw = f.add(
        id("InternetGateway")?,
        ec2::InternetGateway::new().tags(vec![tag("Name", n.name(&naming::VPC, Some("igw")))]),
    )?;
    let attachment = f.add(
        id("InternetGatewayAttachment")?,
        ec2::VpcGatewayAttachment::new()
            .vpc_id(vpc.reference())
            .internet_gateway_id(igw.reference()),
    )?;

    // The zones are parameters whose defaults are the configured names: CloudFormation checks
    // each exists in the account at deploy time (a name the account lacks fails before anything
    // is made), and no zone is written into a resource.
    let mut zones = Vec::new();
    for az in &props.availability_zones {
        zones.push(
            f.parameter(
                id(format!("AvailabilityZone{}", zone_key(az)))?,
                Parameter::availability_zone(format!(
                    "Availability zone {} of the region, from the environment's configuration",
                    zone_key(az)
                ))
                .default_value(az.as_str()),
            )?,
        );
    }
    let subnet_prefix = props.vpc_cidr.prefix() + 4;
    let mut tiers: [Vec<Handle<ec2::Subnet>>; 3] = Default::default();
    for (tier_index, tier) in ["Public", "Private", "Isolated"].iter().enumerate() {
        for (i, az) in props.availability_zones.iter().enumerate() {
            let block = props
                .vpc_cidr
                .subnet(
                    subnet_prefix,
                    u32::try_from(tier_index * 3 + i).unwrap_or(u32::MAX),
                )
                .expect("nine subnets of prefix + 4 fit a validated VPC block");
            let key = zone_key(az);
            let subnet = f.add(
                id(format!("{tier}Subnet{key}"))?,
                ec2::Subnet::new()
                    .vpc_id(vpc.reference())
                    .availability_zone(zones[i].clone())
                    .cidr_block(block.to_string())
                    .map_public_ip_on_launch(false)
                    .tags(vec![tag(
                        "Name",
                        n.name(
                            &naming::VPC,
                            Some(&format!("{}-{}", tier.to_lowercase(), key.to_lowercase())),
                        ),
                    )]),
            )?;
            tiers[tier_index].push(subnet);
        }
    }
    let [public, private, isolated] = tiers;

    // Public routing: one table, default route to the internet gateway.
    let public_rt = f.add(
        id("PublicRouteTable")?,
        ec2::RouteTable::new()
            .vpc_id(vpc.reference())
            .tags(vec![tag("Name", n.name(&naming::VPC, Some("public-rt")))]),
    )?;
    let default_route = id("PublicDefaultRoute")?;
    f.add(
        default_route.clone(),
        ec2::Route::new()
            .route_table_id(public_rt.reference())
            .destination_cidr_block("0.0.0.0/0")
            .gateway_id(igw.reference()),
    )?;
    f.depends_on(&default_route, attachment.id());

    // NAT gateways in the public subnets.
    let nat_zones = match props.nat {
        NatPolicy::PerAz => 3,
        NatPolicy::Single => 1,
    };
    let mut nats = Vec::new();
    for (i, az) in props.availability_zones.iter().take(nat_zones).enumerate() {
        let key = zone_key(az);
        let eip_id = id(format!("NatEip{key}"))?;
        let eip = f.add(
            eip_id.clone(),
            ec2::Eip::new().domain("vpc").tags(vec![tag(
                "Name",
                n.name(&naming::VPC, Some(&format!("nat-{}", key.to_lowercase()))),
            )]),
        )?;
        f.depends_on(&eip_id, attachment.id());
        let nat = f.add(
            id(format!("NatGateway{key}"))?,
            ec2::NatGateway::new()
                .subnet_id(public[i].reference())
                .allocation_id(eip.attr_allocation_id())
                .tags(vec![tag(
                    "Name",
                    n.name(&naming::VPC, Some(&format!("nat-{}", key.to_lowercase()))),
                )]),
        )?;
        nats.push(nat);
    }

    // Private routing: a table per zone (stable ids whatever the NAT policy), default route to
    // the zone's NAT gateway or the single one.
    let mut internal_route_tables = Vec::new();
    for (i, az) in props.availability_zones.iter().enumerate() {
        let key = zone_key(az);
        let rt = f.add(
            id(format!("PrivateRouteTable{key}"))?,
            ec2::RouteTable::new()
                .vpc_id(vpc.reference())
                .tags(vec![tag(
                    "Name",
                    n.name(
                        &naming::VPC,
                        Some(&format!("private-rt-{}", key.to_lowercase())),
                    ),
                )]),
        )?;
        f.add(
            id(format!("PrivateDefaultRoute{key}"))?,
            ec2::Route::new()
                .route_table_id(rt.reference())
                .destination_cidr_block("0.0.0.0/0")
                .nat_gateway_id(nats[i.min(nats.len() - 1)].reference()),
        )?;
        internal_route_tables.push((key.to_lowercase(), rt));
    }
    // Isolated routing: one table, no route out of the VPC.
    let isolated_rt = f.add(
        id("IsolatedRouteTable")?,
        ec2::RouteTable::new()
            .vpc_id(vpc.reference())
            .tags(vec![tag("Name", n.name(&naming::VPC, Some("isolated-rt")))]),
    )?;
    internal_route_tables.push(("isolated".to_string(), isolated_rt.clone()));

    for (tier, subnets) in [
        ("Public", &public),
        ("Private", &private),
        ("Isolated", &isolated),
    ] {
        for (i, subnet) in subnets.iter().enumerate() {
            let table = match tier {
                "Public" => &public_rt,
                "Private" => &internal_route_tables[i].1,
                _ => &isolated_rt,
            };
            f.add(
                id(format!("{}RouteTableAssociation", subnet.id()))?,
                ec2::SubnetRouteTableAssociation::new()
                    .subnet_id(subnet.reference())
                    .route_table_id(table.reference()),
            )?;
        }
    }

    // Gateway endpoints: S3 and DynamoDB traffic stays on the AWS network, free of NAT charges.
    let internal_ids = Expr::List(
        internal_route_tables
            .iter()
            .map(|(_, rt)| rt.reference())
            .collect(),
    );
    for (logical, service) in [
        ("S3GatewayEndpoint", "s3"),
        ("DynamoDbGatewayEndpoint", "dynamodb"),
    ] {
        f.add(
            id(logical)?,
            ec2::VpcEndpoint::new()
                .vpc_id(vpc.reference())
                .vpc_endpoint_type("Gateway")
                .service_name(Expr::sub(format!(
                    "com.amazonaws.${{AWS::Region}}.{service}"
                )))
                .route_table_ids(internal_ids.clone()),
        )?;
    }

    // Interface endpoints, reachable on 443 from inside the VPC only.
    let endpoint_sg = f.add(
        id("EndpointSecurityGroup")?,
        ec2::SecurityGroup::new()
            .group_name(n.name(&naming::ENDPOINTS_SG, None))
            .group_description("Interface endpoints: HTTPS from inside the VPC")
            .vpc_id(vpc.reference())
            .security_group_ingress(vec![
                ec2::security_group::Ingress::new()
                    .ip_protocol("tcp")
                    .from_port(443)
                    .to_port(443)
                    .cidr_ip(props.vpc_cidr.to_string())
                    .description("HTTPS from the VPC"),
            ])
            // Endpoints answer; they never open connections.
            .security_group_egress(vec![no_egress()]),
    )?;
    for service in &props.interface_endpoints {
        let logical = format!(
            "{}Endpoint",
            service
                .split(['.', '-'])
                .map(|p| {
                    let mut c = p.chars();
                    c.next()
                        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                        .unwrap_or_default()
                })
                .collect::<String>()
        );
        f.add(
            id(logical)?,
            ec2::VpcEndpoint::new()
                .vpc_id(vpc.reference())
                .vpc_endpoint_type("Interface")
                .service_name(Expr::sub(format!(
                    "com.amazonaws.${{AWS::Region}}.{service}"
                )))
                .private_dns_enabled(true)
                .subnet_ids(Network::ids(&private))
                .security_group_ids(vec![endpoint_sg.attr_group_id()]),
        )?;
    }

    // The tasks' group. Its ingress comes from the load balancer's group (service tier).
    let app_sg = f.add(
        id("AppSecurityGroup")?,
        ec2::SecurityGroup::new()
            .group_name(n.name(&naming::APP_SG, None))
            .group_description("Application tasks")
            .vpc_id(vpc.reference()),
    )?;

    // Flow logs: every accepted and rejected flow, to an encrypted log group.
    let group = f.add(
        id("FlowLogGroup")?,
        logs::LogGroup::new()
            .log_group_name(n.name(&naming::FLOW_LOG_GROUP, None))
            .kms_key_id(props.log_key_arn.clone())
            .retention_in_days(props.flow_log_retention_days),
    )?;
    let role = f.add(
        id("FlowLogRole")?,
        iam::Role::new()
            .role_name(n.name(&naming::FLOW_LOG_ROLE, None))
            .description("Lets VPC flow logs write to the flow-log group")
            .assume_role_policy_document(assume_role_by("vpc-flow-logs.amazonaws.com"))
            .policies(vec![
                iam::role::Policy::new()
                    .policy_name("write-flow-logs")
                    .policy_document(policy([Statement::allow(
                        [
                            "logs:CreateLogStream",
                            "logs:DescribeLogStreams",
                            "logs:PutLogEvents",
                        ],
                        [group.attr_arn()],
                    )])),
            ]),
    )?;
    f.add(
        id("VpcFlowLog")?,
        ec2::FlowLog::new()
            .resource_id(vpc.reference())
            .resource_type("VPC")
            .traffic_type("ALL")
            .log_destination_type("cloud-watch-logs")
            .log_group_name(group.reference())
            .deliver_logs_permission_arn(role.attr_arn())
            .max_aggregation_interval(60)
            .tags(vec![tag("Name", n.name(&naming::VPC, Some("flow-log")))]),
    )?;

    f.output(id("VpcId")?, "The region's VPC", vpc.reference())?;
    f.output(
        id("PrivateSubnetIds")?,
        "Private subnets (tasks), comma separated",
        Expr::join(",", private.iter().map(Handle::reference)),
    )?;
    f.output(
        id("IsolatedSubnetIds")?,
        "Isolated subnets (database), comma separated",
        Expr::join(",", isolated.iter().map(Handle::reference)),
    )?;

    Ok((
        f,
        Network {
            vpc,
            cidr: props.vpc_cidr,
            public_subnets: public,
            private_subnets: private,
            isolated_subnets: isolated,
            internal_route_tables,
            endpoint_security_group: endpoint_sg,
            app_security_group: app_sg,
        },
    ))
}

/// The rules of the network props; [`NetworkProps::problems`] and the configuration's
/// validation both use them.
pub mod rules {
    use cfn::net::Cidr;

    /// A private (RFC 1918) block of prefix /16 to /20, where nine subnets of prefix + 4 fit.
    pub fn vpc_cidr(block: &str) -> Result<Cidr, String> {
        match block.parse::<Cidr>() {
            Err(e) => Err(format!("{block:?} is not allowed: {e}")),
            Ok(cidr) if !(16..=20).contains(&cidr.prefix()) => Err(format!(
                "{block:?} is not allowed: the prefix must be /16 to /20 (AWS allows /16 at most; nine subnets of prefix + 4 must fit)"
            )),
            Ok(cidr) if !cidr.is_private() => Err(format!(
                "{block:?} is not allowed: use a private RFC 1918 range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)"
            )),
            Ok(cidr) => Ok(cidr),
        }
    }
}

impl NetworkProps {
    /// Every rule these props break (none when they are valid).
    pub fn problems(&self) -> Vec<cfn::Problem> {
        let mut p = cfn::Problems::new();
        p.check(
            "flow_log_retention_days",
            cfn::rules::log_retention_days(self.flow_log_retention_days),
        );
        p.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cfn::Template;
    use cfn::naming::Suffix;
    use cfn::testing::{assert_has_resource_properties, assert_resource_count};
    use serde_json::{Value, json};

    fn render(nat: NatPolicy) -> Value {
        let namer = Namer::new(Suffix::parse("qa").unwrap(), "us-east-1");
        let props = NetworkProps {
            nat,
            flow_log_retention_days: 30,
            ..NetworkProps::new(
                namer,
                "10.10.0.0/16".parse().unwrap(),
                ["us-east-1a", "us-east-1b", "us-east-1c"].map(String::from),
                &keys::build(&keys::KeysProps {
                    namer: Namer::new(Suffix::parse("qa").unwrap(), "us-east-1"),
                    pending_window_days: 7,
                    via_services: vec![],
                    cloudwatch_logs: true,
                    service_principals: vec![],
                    recovery_account: None,
                })
                .unwrap()
                .1,
            )
        };
        let (f, _) = build(&props).unwrap();
        Template::new("t", f).to_json()
    }

    #[test]
    fn three_zones_three_tiers_carved_from_the_vpc_block() {
        let t = render(NatPolicy::PerAz);
        assert_resource_count(&t, "AWS::EC2::Subnet", 9);
        assert_has_resource_properties(
            &t,
            "AWS::EC2::Subnet",
            json!({"AvailabilityZone": {"Ref": "AvailabilityZoneA"}, "CidrBlock": "10.10.0.0/20", "MapPublicIpOnLaunch": false}),
        );
        assert_has_resource_properties(
            &t,
            "AWS::EC2::Subnet",
            json!({"AvailabilityZone": {"Ref": "AvailabilityZoneC"}, "CidrBlock": "10.10.128.0/20"}),
        );
        // The configured zones are the parameters' defaults, typed so CloudFormation checks them.
        assert_eq!(
            t["Parameters"]["AvailabilityZoneC"],
            json!({"Type": "AWS::EC2::AvailabilityZone::Name", "Default": "us-east-1c",
                   "Description": "Availability zone C of the region, from the environment's configuration"})
        );
        assert_eq!(
            t["Resources"]["IsolatedSubnetC"]["Properties"]["CidrBlock"],
            "10.10.128.0/20"
        );
    }

    #[test]
    fn nat_policy_decides_the_number_of_gateways() {
        assert_resource_count(&render(NatPolicy::PerAz), "AWS::EC2::NatGateway", 3);
        let single = render(NatPolicy::Single);
        assert_resource_count(&single, "AWS::EC2::NatGateway", 1);
        // Every private table routes to the single gateway; ids stay stable across policies.
        for key in ["A", "B", "C"] {
            assert_eq!(
                single["Resources"][format!("PrivateDefaultRoute{key}")]["Properties"]["NatGatewayId"],
                json!({"Ref": "NatGatewayA"})
            );
        }
    }

    #[test]
    fn isolated_subnets_have_no_route_out() {
        let t = render(NatPolicy::PerAz);
        let routes = cfn::testing::resources_of(&t, "AWS::EC2::Route");
        assert!(
            routes
                .iter()
                .all(|(_, r)| r["Properties"]["RouteTableId"]
                    != json!({"Ref": "IsolatedRouteTable"}))
        );
    }

    #[test]
    fn endpoints_cover_what_fargate_needs() {
        let t = render(NatPolicy::Single);
        assert_resource_count(&t, "AWS::EC2::VPCEndpoint", 7);
        for service in ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm"] {
            assert_has_resource_properties(
                &t,
                "AWS::EC2::VPCEndpoint",
                json!({
                    "VpcEndpointType": "Interface",
                    "PrivateDnsEnabled": true,
                    "ServiceName": {"Fn::Sub": format!("com.amazonaws.${{AWS::Region}}.{service}")}
                }),
            );
        }
        assert_has_resource_properties(
            &t,
            "AWS::EC2::VPCEndpoint",
            json!({"VpcEndpointType": "Gateway", "ServiceName": {"Fn::Sub": "com.amazonaws.${AWS::Region}.dynamodb"}}),
        );
        assert_has_resource_properties(
            &t,
            "AWS::EC2::SecurityGroup",
            json!({"SecurityGroupIngress": [{"CidrIp": "10.10.0.0/16", "FromPort": 443, "ToPort": 443, "IpProtocol": "tcp", "Description": "HTTPS from the VPC"}]}),
        );
    }

    #[test]
    fn flow_logs_go_to_an_encrypted_group_with_retention() {
        let t = render(NatPolicy::Single);
        assert_has_resource_properties(
            &t,
            "AWS::Logs::LogGroup",
            json!({"LogGroupName": "/trading/flow-logs-qa", "RetentionInDays": 30, "KmsKeyId": {"Fn::GetAtt": ["RegionKey", "Arn"]}}),
        );
        assert_has_resource_properties(
            &t,
            "AWS::EC2::FlowLog",
            json!({"ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"}),
        );
        assert_has_resource_properties(
            &t,
            "AWS::IAM::Role",
            json!({"RoleName": "flow-logs-qa-us-east-1"}),
        );
    }
}
