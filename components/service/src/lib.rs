//! The trading application on Fargate in one region: an ECS cluster with Container Insights,
//! one task definition made by [`task_definition`] for both regions (identical apart from
//! region-specific references), a service in the private subnets with target-tracking auto
//! scaling (CPU and requests per target), and an internet-facing Application Load Balancer in the
//! public subnets with access logs, an HTTPS listener (TLS 1.2+) and HTTP redirected to HTTPS.
//! Security groups are chained: load balancer → tasks (→ database, in the aurora component).
//!
//! The task role gets exactly the statements the data tier's typed grants give it; the execution
//! role may read only the secret and parameters injected into the container.
//!
//! ```
//! use cfn::naming::{Namer, Suffix};
//!
//! let namer = Namer::new(Suffix::parse("qa").unwrap(), "us-east-1");
//! # let (_, key) = keys::build(&keys::KeysProps {
//! #     namer: namer.clone(), pending_window_days: 7, via_services: vec![], cloudwatch_logs: true, service_principals: vec![], recovery_account: None,
//! # })?;
//! # let (_, net) = network::build(&network::NetworkProps::new(
//! #     namer.clone(), "10.10.0.0/16".parse().unwrap(),
//! #     ["us-east-1a", "us-east-1b", "us-east-1c"].map(String::from), &key,
//! # ))?;
//! // A region's key and network (as in the network crate), then:
//! let props = service::ServiceProps::new(
//!     namer,
//!     cfn::Expr::from("arn:aws:acm:us-east-1:111122223333:certificate/example"),
//!     key.arn(),
//! );
//! let (fragment, app) = service::build(&props, &net)?;
//! # let _ = (fragment, app.dns_name());
//! # Ok::<(), cfn::Error>(())
//! ```

use cfn::arn::Arn;
use cfn::aws::{applicationautoscaling, ec2, ecs, elasticloadbalancingv2 as elb, iam, logs, s3};
use cfn::iam::{Statement, assume_role_by, policy};
use cfn::naming::{self, Namer};
use cfn::{Error, Expr, Fragment, Handle, LogicalId};
use network::Network;

/// What the container runs, identical in both regions.
#[derive(Clone, Debug, PartialEq)]
pub struct Container {
    /// The image. Default: a placeholder web server; set the application's image.
    pub image: String,
    /// Task CPU units (256 … 16384). Default: 512.
    pub cpu: u32,
    /// Task memory in MiB, valid for the CPU. Default: 1024.
    pub memory: u32,
    /// The port the container serves HTTP on. Default: 80.
    pub port: u16,
    /// The deep health path the load balancer and the container health check probe. Default: `/`.
    pub health_path: String,
    /// Plain environment variables (names identical in both regions; values may be
    /// region-specific references).
    pub environment: Vec<(String, Expr)>,
    /// Secrets injected from Secrets Manager or SSM: variable name → `valueFrom` ARN.
    pub secrets: Vec<(String, Expr)>,
}

impl Default for Container {
    fn default() -> Self {
        Container {
            image: "public.ecr.aws/nginx/nginx:stable-alpine".into(),
            cpu: 512,
            memory: 1024,
            port: 80,
            health_path: "/".into(),
            environment: vec![],
            secrets: vec![],
        }
    }
}

/// Properties of the region's service. [`ServiceProps::new`] sets the defaults documented here.
#[derive(Clone, Debug)]
pub struct ServiceProps {
    /// Names the cluster, service, load balancer, target group, roles and log group. Required.
    pub namer: Namer,
    /// What runs. Default: [`Container::default`].
    pub container: Container,
    /// Tasks to run: full capacity in the primary, the warm minimum (≥ 1) in the secondary.
    /// The template does not carry it (see `build`): the service reaches it through its floor,
    /// so it must equal `min_count`. Default: 2.
    pub desired_count: u32,
    /// Auto scaling floor. Default: the desired count.
    pub min_count: u32,
    /// The floor as the template says it, when it is not `min_count` itself: a stack parameter
    /// the deployer sets from the runbooks' state (full capacity while failed over), so no
    /// deploy lowers what a runbook raised. Default: none (`min_count`).
    pub min_capacity: Option<Expr>,
    /// Auto scaling ceiling. Default: 6.
    pub max_count: u32,
    /// Target average CPU utilisation, percent. Default: 60.
    pub cpu_target_percent: u32,
    /// Target requests per task per minute. Default: 1000.
    pub requests_per_target: u32,
    /// ARN of the HTTPS listener's certificate. Required.
    pub certificate_arn: Expr,
    /// The TLS policy of the HTTPS listener (TLS 1.2 or newer). Default:
    /// `ELBSecurityPolicy-TLS13-1-2-2021-06`.
    pub tls_policy: String,
    /// ARN of the region's key (log group). Required.
    pub key_arn: Expr,
    /// Days container logs are kept. Default: 30.
    pub log_retention_days: u32,
    /// What the task role may do (grants from the data tier). Default: nothing.
    pub task_statements: Vec<Statement>,
    /// What the execution role may read besides pulling images and writing logs (the injected
    /// secrets and parameters, with their keys). Default: nothing.
    pub execution_statements: Vec<Statement>,
}

impl ServiceProps {
    /// The defaults: [`Container::default`], 2 tasks scaling between 2 and 6 on 60 % CPU or
    /// 1,000 requests per task per minute, TLS 1.3/1.2, logs kept 30 days, no grants.
    pub fn new(namer: Namer, certificate_arn: Expr, key_arn: Expr) -> Self {
        ServiceProps {
            namer,
            container: Container::default(),
            desired_count: 2,
            min_count: 2,
            min_capacity: None,
            max_count: 6,
            cpu_target_percent: 60,
            requests_per_target: 1000,
            certificate_arn,
            tls_policy: "ELBSecurityPolicy-TLS13-1-2-2021-06".into(),
            key_arn,
            log_retention_days: 30,
            task_statements: vec![],
            execution_statements: vec![],
        }
    }
}

/// The region's service, for DNS, canaries and the runbooks.
#[derive(Clone, Debug)]
pub struct Service {
    /// The load balancer.
    pub load_balancer: Handle<elb::LoadBalancer>,
    /// The ECS cluster.
    pub cluster: Handle<ecs::Cluster>,
    /// The ECS service.
    pub service: Handle<ecs::Service>,
}

impl Service {
    /// The load balancer's DNS name.
    pub fn dns_name(&self) -> Expr {
        self.load_balancer.attr_dns_name()
    }

    /// The load balancer's hosted zone, for alias records.
    pub fn hosted_zone_id(&self) -> Expr {
        self.load_balancer.attr_canonical_hosted_zone_id()
    }
}

/// The ELB account that writes access logs in `region`.
fn elb_account(region: &str) -> &'static str {
    match region {
        "us-east-2" => "033677994240",
        "us-west-2" => "797873946194",
        _ => "127311923021",
    }
}

fn id(s: &str) -> Result<LogicalId, Error> {
    LogicalId::new(s)
}

/// The task definition both regions run. Only the references passed in (roles, log group,
/// region, environment values) differ between regions.
pub fn task_definition(
    namer: &Namer,
    c: &Container,
    execution_role: Expr,
    task_role: Expr,
    log_group: Expr,
) -> ecs::TaskDefinition {
    let kv = |pairs: &[(String, Expr)], value_key: &str| -> Vec<Expr> {
        pairs
            .iter()
            .map(|(k, v)| Expr::map([("Name", Expr::from(k.as_str())), (value_key, v.clone())]))
            .collect()
    };
    ecs::TaskDefinition::new()
        .family(namer.name(&naming::TASK_FAMILY, None))
        .network_mode("awsvpc")
        .requires_compatibilities(vec!["FARGATE"])
        .cpu(c.cpu.to_string())
        .memory(c.memory.to_string())
        .execution_role_arn(execution_role)
        .task_role_arn(task_role)
        .runtime_platform(
            ecs::task_definition::RuntimePlatform::new()
                .operating_system_family("LINUX")
                .cpu_architecture("X86_64"),
        )
        .container_definitions(vec![
            ecs::task_definition::ContainerDefinition::new()
                .name("app")
                .image(c.image.as_str())
                .essential(true)
                .port_mappings(vec![
                    ecs::task_definition::PortMapping::new()
                        .container_port(c.port)
                        .protocol("tcp"),
                ])
                .environment(kv(&c.environment, "Value"))
                .secrets(kv(&c.secrets, "ValueFrom"))
                .health_check(
                    ecs::task_definition::HealthCheck::new()
                        .command(vec![
                            "CMD-SHELL".to_string(),
                            format!(
                                "wget -q -O /dev/null http://localhost:{}{} || exit 1",
                                c.port, c.health_path
                            ),
                        ])
                        .interval(15)
                        .timeout(5)
                        .retries(3)
                        .start_period(30),
                )
                .log_configuration(
                    ecs::task_definition::LogConfiguration::new()
                        .log_driver("awslogs")
                        .options(Expr::map([
                            ("awslogs-group", log_group),
                            ("awslogs-region", Expr::pseudo(cfn::Pseudo::Region)),
                            ("awslogs-stream-prefix", Expr::from("app")),
                        ])),
                ),
        ])
}

/// Builds the region's service.
pub fn build(props: &ServiceProps, network: &Network) -> Result<(Fragment, Service), Error> {
    cfn::Problems::from(props.problems()).into_result("service")?;
    let n = &props.namer;
    let c = &props.container;
    let mut f = Fragment::new();

    // Load balancer access logs: ELB writes them with SSE-S3 only, so this bucket alone is not
    // encrypted with the region's key.
    let logs_bucket_id = id("AlbLogsBucket")?;
    let logs_bucket = f.add(
        logs_bucket_id.clone(),
        storage::private_bucket(n.expr(&naming::ALB_LOGS_BUCKET, None), None)
            .lifecycle_configuration(s3::bucket::LifecycleConfiguration::new().rules(vec![
                s3::bucket::Rule::new()
                    .id("expire-access-logs")
                    .status("Enabled")
                    .expiration_in_days(props.log_retention_days)
                    .noncurrent_version_expiration(
                        s3::bucket::NoncurrentVersionExpiration::new().noncurrent_days(1),
                    ),
            ])),
    )?;
    f.suppress(
        &logs_bucket_id,
        "encrypted-with-cmk",
        "Elastic Load Balancing delivers access logs to SSE-S3 buckets only",
    );
    f.suppress(
        &logs_bucket_id,
        "replicated",
        "access logs stay in the region whose load balancer wrote them",
    );
    f.suppress(
        &logs_bucket_id,
        "access-logged",
        "a log destination itself: it holds only the load balancer's access logs, and logging it would log those deliveries",
    );
    let logs_objects = Expr::sub("${AlbLogsBucket.Arn}/alb/AWSLogs/${AWS::AccountId}/*");
    let logs_policy = f.add(
        id("AlbLogsBucketPolicy")?,
        storage::bucket_policy(
            &logs_bucket,
            vec![
                Statement::allow(["s3:PutObject"], [logs_objects])
                    .sid("ElbWritesAccessLogs")
                    .aws_principal(
                        Arn::new("iam", "root")
                            .without_region()
                            .in_account(elb_account(n.region()))
                            .expr(),
                    ),
            ],
        ),
    )?;

    // Security groups: anyone → load balancer on 80/443; load balancer → tasks on the port.
    let alb_sg = f.add(
        id("AlbSecurityGroup")?,
        ec2::SecurityGroup::new()
            .group_name(n.name(&naming::ALB_SG, None))
            .group_description("Load balancer: HTTPS and the HTTP redirect from the internet")
            .vpc_id(network.vpc_id())
            .security_group_ingress(vec![
                ec2::security_group::Ingress::new()
                    .ip_protocol("tcp")
                    .from_port(443)
                    .to_port(443)
                    .cidr_ip("0.0.0.0/0")
                    .description("HTTPS"),
                ec2::security_group::Ingress::new()
                    .ip_protocol("tcp")
                    .from_port(80)
                    .to_port(80)
                    .cidr_ip("0.0.0.0/0")
                    .description("HTTP, redirected to HTTPS"),
            ])
            .security_group_egress(vec![
                ec2::security_group::Egress::new()
                    .ip_protocol("tcp")
                    .from_port(c.port)
                    .to_port(c.port)
                    .destination_security_group_id(network.app_security_group.attr_group_id())
                    .description("To the tasks"),
            ]),
    )?;
    f.add(
        id("AppIngressFromAlb")?,
        ec2::SecurityGroupIngress::new()
            .group_id(network.app_security_group.attr_group_id())
            .ip_protocol("tcp")
            .from_port(c.port)
            .to_port(c.port)
            .source_security_group_id(alb_sg.attr_group_id())
            .description("From the load balancer"),
    )?;

    let alb = f.add(
        id("LoadBalancer")?,
        elb::LoadBalancer::new()
            .name(n.name(&naming::ALB, None))
            .type_("application")
            .scheme("internet-facing")
            .subnets(Network::ids(&network.public_subnets))
            .security_groups(vec![alb_sg.attr_group_id()])
            .load_balancer_attributes(
                [
                    ("access_logs.s3.enabled", Expr::from("true")),
                    ("access_logs.s3.bucket", logs_bucket.reference()),
                    ("access_logs.s3.prefix", Expr::from("alb")),
                    (
                        "routing.http.drop_invalid_header_fields.enabled",
                        Expr::from("true"),
                    ),
                    ("deletion_protection.enabled", Expr::from("false")),
                ]
                .into_iter()
                .map(|(k, v)| {
                    elb::load_balancer::LoadBalancerAttribute::new()
                        .key(k)
                        .value(v)
                })
                .collect::<Vec<_>>(),
            ),
    )?;
    // ELB test-writes to the bucket when access logging is switched on and refuses the
    // attribute ("Access Denied for bucket … Please check S3bucket permission") until the
    // bucket policy lets it: the load balancer waits for the policy, not only the bucket
    // (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html).
    f.depends_on(alb.id(), logs_policy.id());
    let target_group = f.add(
        id("TargetGroup")?,
        elb::TargetGroup::new()
            .name(n.name(&naming::TARGET_GROUP, None))
            .vpc_id(network.vpc_id())
            .target_type("ip")
            .protocol("HTTP")
            .port(c.port)
            .health_check_enabled(true)
            .health_check_path(c.health_path.as_str())
            .health_check_interval_seconds(10)
            .health_check_timeout_seconds(5)
            .healthy_threshold_count(2)
            .unhealthy_threshold_count(2)
            .matcher(elb::target_group::Matcher::new().http_code("200"))
            .target_group_attributes(vec![
                elb::target_group::TargetGroupAttribute::new()
                    .key("deregistration_delay.timeout_seconds")
                    .value("30"),
            ]),
    )?;
    let https = f.add(
        id("HttpsListener")?,
        elb::Listener::new()
            .load_balancer_arn(alb.reference())
            .port(443)
            .protocol("HTTPS")
            .ssl_policy(props.tls_policy.as_str())
            .certificates(vec![
                elb::listener::Certificate::new().certificate_arn(props.certificate_arn.clone()),
            ])
            .default_actions(vec![
                elb::listener::Action::new()
                    .type_("forward")
                    .target_group_arn(target_group.reference()),
            ]),
    )?;
    f.add(
        id("HttpListener")?,
        elb::Listener::new()
            .load_balancer_arn(alb.reference())
            .port(80)
            .protocol("HTTP")
            .default_actions(vec![
                elb::listener::Action::new()
                    .type_("redirect")
                    .redirect_config(
                        elb::listener::RedirectConfig::new()
                            .protocol("HTTPS")
                            .port("443")
                            .status_code("HTTP_301"),
                    ),
            ]),
    )?;

    let log_group = f.add(
        id("AppLogGroup")?,
        logs::LogGroup::new()
            .log_group_name(n.name(&naming::APP_LOGS, None))
            .kms_key_id(props.key_arn.clone())
            .retention_in_days(props.log_retention_days),
    )?;
    let mut execution_statements = vec![
        Statement::allow(
            [
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
            ],
            [Arn::new("ecr", "repository/*").expr()],
        ),
        Statement::allow(["ecr:GetAuthorizationToken"], [Expr::from("*")]),
        Statement::allow(
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [Expr::sub("${AppLogGroup.Arn}:*")],
        ),
    ];
    execution_statements.extend(props.execution_statements.iter().cloned());
    let execution_role = f.add(
        id("TaskExecutionRole")?,
        iam::Role::new()
            .role_name(n.name(&naming::TASK_ROLE, Some("execution")))
            .description("Lets ECS pull the image, write logs and inject secrets")
            .assume_role_policy_document(assume_role_by("ecs-tasks.amazonaws.com"))
            .policies(vec![
                iam::role::Policy::new()
                    .policy_name("start-tasks")
                    .policy_document(policy(execution_statements)),
            ]),
    )?;
    let mut task_role = iam::Role::new()
        .role_name(n.name(&naming::TASK_ROLE, Some("task")))
        .description("What the application may do: its table, bucket, parameters, database")
        .assume_role_policy_document(assume_role_by("ecs-tasks.amazonaws.com"));
    if !props.task_statements.is_empty() {
        task_role = task_role.policies(vec![
            iam::role::Policy::new()
                .policy_name("application")
                .policy_document(policy(props.task_statements.clone())),
        ]);
    }
    let task_role = f.add(id("TaskRole")?, task_role)?;
    let task = f.add(
        id("TaskDefinition")?,
        task_definition(
            n,
            c,
            execution_role.attr_arn(),
            task_role.attr_arn(),
            log_group.reference(),
        ),
    )?;

    let cluster = f.add(
        id("Cluster")?,
        ecs::Cluster::new()
            .cluster_name(n.name(&naming::ECS_CLUSTER, None))
            .cluster_settings(vec![
                ecs::cluster::ClusterSettings::new()
                    .name("containerInsights")
                    .value("enabled"),
            ]),
    )?;
    let service_id = id("Service")?;
    let service = f.add(
        service_id.clone(),
        ecs::Service::new()
            .service_name(n.name(&naming::ECS_SERVICE, None))
            .cluster(cluster.reference())
            .launch_type("FARGATE")
            .task_definition(task.reference())
            // No DesiredCount: CloudFormation sends it again with every update of the service,
            // which would scale a failed-over region back to the warm count. Without it a new
            // service starts with one task, and the scalable target below brings it to its
            // floor; updates leave the count to auto scaling and the runbooks.
            .health_check_grace_period_seconds(60)
            .propagate_tags("SERVICE")
            .enable_execute_command(false)
            .deployment_configuration(
                ecs::service::DeploymentConfiguration::new()
                    .minimum_healthy_percent(100)
                    .maximum_percent(200)
                    .deployment_circuit_breaker(
                        ecs::service::DeploymentCircuitBreaker::new()
                            .enable(true)
                            .rollback(true),
                    ),
            )
            .network_configuration(
                ecs::service::NetworkConfiguration::new().awsvpc_configuration(
                    ecs::service::AwsVpcConfiguration::new()
                        .assign_public_ip("DISABLED")
                        .subnets(Network::ids(&network.private_subnets))
                        .security_groups(vec![network.app_security_group.attr_group_id()]),
                ),
            )
            .load_balancers(vec![
                ecs::service::LoadBalancer::new()
                    .container_name("app")
                    .container_port(c.port)
                    .target_group_arn(target_group.reference()),
            ]),
    )?;
    // The target group serves the load balancer only once the listener exists.
    f.depends_on(&service_id, https.id());

    let scalable_id = id("ServiceScalableTarget")?;
    let scalable = f.add(
        scalable_id,
        applicationautoscaling::ScalableTarget::new()
            .service_namespace("ecs")
            .scalable_dimension("ecs:service:DesiredCount")
            .resource_id(Expr::sub("service/${Cluster}/${Service.Name}"))
            .min_capacity(
                props
                    .min_capacity
                    .clone()
                    .unwrap_or_else(|| Expr::from(props.min_count)),
            )
            .max_capacity(props.max_count),
    )?;
    for (logical, metric, target, label) in [
        (
            "CpuScalingPolicy",
            "ECSServiceAverageCPUUtilization",
            props.cpu_target_percent,
            None,
        ),
        (
            "RequestsScalingPolicy",
            "ALBRequestCountPerTarget",
            props.requests_per_target,
            Some(Expr::sub(
                "${LoadBalancer.LoadBalancerFullName}/${TargetGroup.TargetGroupFullName}",
            )),
        ),
    ] {
        let mut spec = applicationautoscaling::scaling_policy::PredefinedMetricSpecification::new()
            .predefined_metric_type(metric);
        if let Some(label) = label {
            spec = spec.resource_label(label);
        }
        f.add(
            id(logical)?,
            applicationautoscaling::ScalingPolicy::new()
                .policy_name(n.name(&naming::SCALING_POLICY, Some(&logical.to_lowercase()[..3])))
                .policy_type("TargetTrackingScaling")
                .scaling_target_id(scalable.reference())
                .target_tracking_scaling_policy_configuration(
                    applicationautoscaling::scaling_policy::TargetTrackingScalingPolicyConfiguration::new()
                        .target_value(f64::from(target))
                        .scale_in_cooldown(120)
                        .scale_out_cooldown(30)
                        .predefined_metric_specification(spec),
                ),
        )?;
    }

    f.output(
        id("LoadBalancerDnsName")?,
        "The region's load balancer",
        alb.attr_dns_name(),
    )?;
    f.output(
        id("LoadBalancerHostedZoneId")?,
        "The load balancer's hosted zone, for alias records",
        alb.attr_canonical_hosted_zone_id(),
    )?;
    f.output(
        id("EcsClusterName")?,
        "The ECS cluster",
        cluster.reference(),
    )?;
    f.output(
        id("EcsServiceName")?,
        "The ECS service",
        service.attr_name(),
    )?;
    Ok((
        f,
        Service {
            load_balancer: alb,
            cluster,
            service,
        },
    ))
}

/// The rules of the service props; [`ServiceProps::problems`] and the configuration's
/// validation both use them.
pub mod rules {
    /// Memory sizes (MiB) Fargate allows for each CPU size.
    pub fn fargate_memory(cpu: u32) -> Option<Vec<u32>> {
        let range = |from: u32, to: u32, step: u32| (from..=to).step_by(step as usize).collect();
        match cpu {
            256 => Some(vec![512, 1024, 2048]),
            512 => Some(range(1024, 4096, 1024)),
            1024 => Some(range(2048, 8192, 1024)),
            2048 => Some(range(4096, 16384, 1024)),
            4096 => Some(range(8192, 30720, 1024)),
            8192 => Some(range(16384, 61440, 4096)),
            16384 => Some(range(32768, 122880, 8192)),
            _ => None,
        }
    }

    /// A CPU size Fargate has.
    pub fn cpu(cpu: u32) -> Option<String> {
        fargate_memory(cpu).is_none().then(|| {
            format!(
                "{cpu} is not allowed: Fargate tasks have 256, 512, 1024, 2048, 4096, 8192 or 16384 CPU units"
            )
        })
    }

    /// A memory size Fargate allows with `cpu` (nothing to say when the CPU itself is wrong).
    pub fn memory(cpu: u32, memory: u32) -> Option<String> {
        let sizes = fargate_memory(cpu)?;
        (!sizes.contains(&memory)).then(|| {
            format!(
                "{memory} is not allowed with {cpu} CPU units: Fargate allows {}",
                sizes
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
    }

    /// An image is named.
    pub fn image(image: &str) -> Option<String> {
        image.trim().is_empty().then(|| {
            "an image is needed, e.g. \"<account>.dkr.ecr.<region>.amazonaws.com/trading:1.0\""
                .into()
        })
    }

    /// A port from 1 to 65535.
    pub fn port(port: u16) -> Option<String> {
        (port == 0).then(|| "0 is not allowed: use 1 to 65535".into())
    }

    /// A path starting with `/`.
    pub fn health_path(path: &str) -> Option<String> {
        (!path.starts_with('/')).then(|| format!("{path:?} is not allowed: a path starting with /"))
    }

    /// At least one task; `why` says why this region needs one.
    pub fn desired_count(n: u32, why: &str) -> Option<String> {
        (n == 0).then(|| format!("0 is not allowed: {why}"))
    }

    /// The ceiling holds the largest desired count.
    pub fn max_count(max: u32, largest_desired: u32) -> Option<String> {
        (max < largest_desired).then(|| {
            format!("{max} is not allowed: at least the larger desired count ({largest_desired})")
        })
    }

    /// Target CPU: 10 to 90 percent.
    pub fn cpu_target_percent(p: u32) -> Option<String> {
        (!(10..=90).contains(&p)).then(|| format!("{p} is not allowed: use 10 to 90"))
    }

    /// Requests per task per minute: above 0.
    pub fn requests_per_target(n: u32) -> Option<String> {
        (n == 0).then(|| "0 is not allowed".into())
    }

    /// TLS policies of Application Load Balancers that allow TLS 1.2 and newer only.
    pub const TLS_POLICIES: &[&str] = &[
        "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
        "ELBSecurityPolicy-TLS13-1-3-2021-06",
        "ELBSecurityPolicy-TLS-1-2-2017-01",
        "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
        "ELBSecurityPolicy-FS-1-2-Res-2020-10",
    ];

    /// One of [`TLS_POLICIES`].
    pub fn tls_policy(policy: &str) -> Option<String> {
        (!TLS_POLICIES.contains(&policy)).then(|| {
            format!(
                "{policy:?} is not allowed: TLS 1.2+ policies are {}",
                TLS_POLICIES.join(", ")
            )
        })
    }
}

impl ServiceProps {
    /// Every rule these props break (none when they are valid).
    pub fn problems(&self) -> Vec<cfn::Problem> {
        let c = &self.container;
        let mut p = cfn::Problems::new();
        p.check("container.cpu", rules::cpu(c.cpu))
            .check("container.memory", rules::memory(c.cpu, c.memory))
            .check("container.image", rules::image(&c.image))
            .check("container.port", rules::port(c.port))
            .check("container.health_path", rules::health_path(&c.health_path))
            .check(
                "desired_count",
                rules::desired_count(self.desired_count, "a service runs at least 1 task"),
            )
            .check(
                "max_count",
                rules::max_count(self.max_count, self.desired_count.max(self.min_count)),
            )
            .check(
                "cpu_target_percent",
                rules::cpu_target_percent(self.cpu_target_percent),
            )
            .check(
                "requests_per_target",
                rules::requests_per_target(self.requests_per_target),
            )
            .check("tls_policy", rules::tls_policy(&self.tls_policy));
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

    fn render() -> Value {
        let namer = Namer::new(Suffix::parse("qa").unwrap(), "us-east-1");
        let (_, key) = keys::build(&keys::KeysProps {
            namer: namer.clone(),
            pending_window_days: 7,
            via_services: vec![],
            cloudwatch_logs: true,
            service_principals: vec![],
            recovery_account: None,
        })
        .unwrap();
        let (_, net) = network::build(&network::NetworkProps::new(
            namer.clone(),
            "10.10.0.0/16".parse().unwrap(),
            ["us-east-1a", "us-east-1b", "us-east-1c"].map(String::from),
            &key,
        ))
        .unwrap();
        let (f, _) = build(
            &ServiceProps {
                namer,
                container: Container {
                    image: "example/app:1".into(),
                    cpu: 512,
                    memory: 1024,
                    port: 8080,
                    health_path: "/health/deep".into(),
                    environment: vec![("APP_ENVIRONMENT".into(), Expr::from("qa"))],
                    secrets: vec![("DB_PASSWORD".into(), Expr::from("arn:secret:password::"))],
                },
                desired_count: 2,
                min_count: 2,
                min_capacity: None,
                max_count: 6,
                cpu_target_percent: 60,
                requests_per_target: 1000,
                certificate_arn: Expr::from("arn:aws:acm:us-east-1:1:certificate/x"),
                tls_policy: "ELBSecurityPolicy-TLS13-1-2-2021-06".into(),
                key_arn: key.arn(),
                log_retention_days: 30,
                task_statements: vec![],
                execution_statements: vec![],
            },
            &net,
        )
        .unwrap();
        Template::new("t", f).to_json()
    }

    #[test]
    fn https_with_tls12_and_http_redirected() {
        let t = render();
        assert_has_resource_properties(
            &t,
            "AWS::ElasticLoadBalancingV2::Listener",
            json!({"Port": 443, "Protocol": "HTTPS", "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
                   "Certificates": [{"CertificateArn": "arn:aws:acm:us-east-1:1:certificate/x"}]}),
        );
        assert_has_resource_properties(
            &t,
            "AWS::ElasticLoadBalancingV2::Listener",
            json!({"Port": 80, "DefaultActions": [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}]}),
        );
        assert_has_resource_properties(
            &t,
            "AWS::ElasticLoadBalancingV2::TargetGroup",
            json!({"HealthCheckPath": "/health/deep", "Port": 8080, "TargetType": "ip"}),
        );
        assert_has_resource_properties(
            &t,
            "AWS::ElasticLoadBalancingV2::LoadBalancer",
            json!({"Scheme": "internet-facing", "Subnets": [{"Ref": "PublicSubnetA"}, {"Ref": "PublicSubnetB"}, {"Ref": "PublicSubnetC"}]}),
        );
    }

    #[test]
    fn tasks_run_privately_behind_the_load_balancer_and_scale_on_two_signals() {
        let t = render();
        assert_has_resource_properties(
            &t,
            "AWS::ECS::Service",
            json!({"LaunchType": "FARGATE", "NetworkConfiguration": {"AwsvpcConfiguration": {
                "AssignPublicIp": "DISABLED",
                "Subnets": [{"Ref": "PrivateSubnetA"}, {"Ref": "PrivateSubnetB"}, {"Ref": "PrivateSubnetC"}],
                "SecurityGroups": [{"Fn::GetAtt": ["AppSecurityGroup", "GroupId"]}]
            }}}),
        );
        // The count is the scalable target's floor: no update of the service may send a count
        // that scales a failed-over region back.
        let service = t["Resources"]["Service"]["Properties"].as_object().unwrap();
        assert!(!service.contains_key("DesiredCount"), "{service:?}");
        assert_has_resource_properties(
            &t,
            "AWS::ApplicationAutoScaling::ScalableTarget",
            json!({"MinCapacity": 2, "MaxCapacity": 6}),
        );
        assert_has_resource_properties(
            &t,
            "AWS::EC2::SecurityGroupIngress",
            json!({"FromPort": 8080, "SourceSecurityGroupId": {"Fn::GetAtt": ["AlbSecurityGroup", "GroupId"]}}),
        );
        assert_resource_count(&t, "AWS::ApplicationAutoScaling::ScalingPolicy", 2);
        assert_has_resource_properties(
            &t,
            "AWS::ECS::Cluster",
            json!({"ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}]}),
        );
        assert_has_resource_properties(
            &t,
            "AWS::ECS::TaskDefinition",
            json!({"Cpu": "512", "Memory": "1024", "NetworkMode": "awsvpc", "RequiresCompatibilities": ["FARGATE"]}),
        );
    }

    #[test]
    fn access_logs_go_to_their_own_bucket_with_a_stated_exception() {
        let t = render();
        let bucket = &t["Resources"]["AlbLogsBucket"];
        let exempt: Vec<&str> = bucket["Metadata"]["Policy"]["Suppressions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Rule"].as_str().unwrap())
            .collect();
        assert_eq!(
            exempt,
            ["access-logged", "encrypted-with-cmk", "replicated"]
        );
        assert_has_resource_properties(
            &t,
            "AWS::ElasticLoadBalancingV2::LoadBalancer",
            json!({"LoadBalancerAttributes": [{"Key": "access_logs.s3.enabled", "Value": "true"}, {"Key": "access_logs.s3.bucket", "Value": {"Ref": "AlbLogsBucket"}}, {"Key": "access_logs.s3.prefix", "Value": "alb"}, {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"}, {"Key": "deletion_protection.enabled", "Value": "false"}]}),
        );
    }
}
