//! Each role's groups and labels, and how watch events change them.

use super::*;
use serde_json::{json, Value};

const PODS: &str = "/api/v1/pods";
const SERVICES: &str = "/api/v1/services";
const ENDPOINTS: &str = "/api/v1/endpoints";
const SLICES: &str = "/apis/discovery.k8s.io/v1/endpointslices";
const NODES: &str = "/api/v1/nodes";
const INGRESSES: &str = "/apis/networking.k8s.io/v1/ingresses";

fn web_pod(name: &str, ip: &str) -> Value {
    json!({
        "metadata": {
            "name": name, "namespace": "shop", "uid": format!("uid-{name}"),
            "labels": {"app.kubernetes.io/name": "web"},
            "annotations": {"prometheus.io/scrape": "true"},
            "ownerReferences": [
                {"kind": "Node", "name": "other"},
                {"kind": "ReplicaSet", "name": "web-abc", "controller": true}
            ]
        },
        "spec": {
            "nodeName": "n1",
            "containers": [
                {"name": "app", "image": "shop/web:1", "ports": [
                    {"name": "http", "containerPort": 8080, "protocol": "TCP"},
                    {"containerPort": 9090, "protocol": "UDP"}
                ]},
                {"name": "sidecar", "image": "proxy:2"}
            ],
            "initContainers": [{"name": "init", "image": "busybox"}]
        },
        "status": {
            "phase": "Running", "podIP": ip, "hostIP": "192.168.1.10",
            "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}]
        }
    })
}

/// The pod-level labels of `web_pod("web-1", "10.0.0.5")`.
fn web_pod_labels() -> Vec<(&'static str, &'static str)> {
    vec![
        ("pod_name", "web-1"),
        ("pod_ip", "10.0.0.5"),
        ("pod_ready", "true"),
        ("pod_phase", "Running"),
        ("pod_node_name", "n1"),
        ("pod_host_ip", "192.168.1.10"),
        ("pod_uid", "uid-web-1"),
        ("pod_controller_kind", "ReplicaSet"),
        ("pod_controller_name", "web-abc"),
        ("pod_label_app_kubernetes_io_name", "web"),
        ("pod_labelpresent_app_kubernetes_io_name", "true"),
        ("pod_annotation_prometheus_io_scrape", "true"),
        ("pod_annotationpresent_prometheus_io_scrape", "true"),
    ]
}

#[tokio::test]
async fn pod_role_one_target_per_port_or_container() {
    let api = FakeApi::start(None).await;
    api.put(PODS, web_pod("web-1", "10.0.0.5"));
    // No IP yet: a group without targets.
    api.put(PODS, json!({"metadata": {"name": "pending", "namespace": "shop"}, "status": {"phase": "Pending"}}));
    let mut sd = run_role(&api, "role: pod\n");
    let groups = sd.groups(2).await;
    assert_eq!(groups[0].source, "pod/shop/pending");
    assert!(groups[0].targets.is_empty() && groups[0].labels.is_empty());
    let g = &groups[1];
    assert_eq!(g.source, "pod/shop/web-1");
    let mut want = web_pod_labels();
    want.push(("namespace", "shop"));
    assert_eq!(map(&g.labels), expect(&want));
    let targets: Vec<_> = g.targets.iter().map(map).collect();
    assert_eq!(
        targets,
        [
            expect(&[
                ("__address__", "10.0.0.5:8080"),
                ("pod_container_name", "app"),
                ("pod_container_image", "shop/web:1"),
                ("pod_container_init", "false"),
                ("pod_container_port_name", "http"),
                ("pod_container_port_number", "8080"),
                ("pod_container_port_protocol", "TCP"),
            ]),
            // An unnamed port: Prometheus's empty name label, which we
            // drop as every empty label is dropped.
            expect(&[
                ("__address__", "10.0.0.5:9090"),
                ("pod_container_name", "app"),
                ("pod_container_image", "shop/web:1"),
                ("pod_container_init", "false"),
                ("pod_container_port_number", "9090"),
                ("pod_container_port_protocol", "UDP"),
            ]),
            expect(&[
                ("__address__", "10.0.0.5"),
                ("pod_container_name", "sidecar"),
                ("pod_container_image", "proxy:2"),
                ("pod_container_init", "false"),
            ]),
            expect(&[
                ("__address__", "10.0.0.5"),
                ("pod_container_name", "init"),
                ("pod_container_image", "busybox"),
                ("pod_container_init", "true"),
            ]),
        ]
    );
}

#[tokio::test]
async fn watch_events_add_modify_delete() {
    let api = FakeApi::start(None).await;
    api.put(PODS, web_pod("web-1", "10.0.0.5"));
    let mut sd = run_role(&api, "role: pod\n");
    sd.groups(1).await;
    // The list's version is where the watch starts.
    tokio::time::timeout(Duration::from_secs(5), async {
        while api.watchers(PODS) == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();
    let watch = api
        .requests()
        .into_iter()
        .find(|r| r.contains("watch=1"))
        .unwrap();
    assert!(
        watch.contains("resourceVersion=1&allowWatchBookmarks=true"),
        "{watch}"
    );

    api.event(PODS, "ADDED", web_pod("web-2", "10.0.0.6"));
    let st = sd.until("web-2", |s| s.groups.len() == 2).await;
    assert_eq!(addresses(&st.groups[1])[0], "10.0.0.6:8080");

    api.event(PODS, "MODIFIED", web_pod("web-2", "10.0.0.7"));
    let st = sd
        .until("web-2 moved", |s| {
            s.groups
                .iter()
                .any(|g| addresses(g).first().is_some_and(|a| a == "10.0.0.7:8080"))
        })
        .await;
    assert_eq!(st.groups.len(), 2);

    api.event(PODS, "DELETED", web_pod("web-1", "10.0.0.5"));
    let st = sd.until("web-1 gone", |s| s.groups.len() == 1).await;
    assert_eq!(st.groups[0].source, "pod/shop/web-2");

    // A bookmark moves the version without changing anything.
    api.event(PODS, "BOOKMARK", json!({"kind": "Pod", "metadata": {}}));
    api.close_watches(PODS);
    // The closed stream is watched again from the last version, not listed.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(api.lists(PODS), 1, "{:?}", api.requests());
    let last = api
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.contains("watch=1"))
        .unwrap();
    assert!(last.contains("resourceVersion=5&"), "{last}");
    api.event(PODS, "ADDED", web_pod("web-3", "10.0.0.8"));
    sd.until("web-3", |s| s.groups.len() == 2).await;
}

#[tokio::test]
async fn gone_and_broken_streams_list_again() {
    let api = FakeApi::start(None).await;
    api.put(PODS, web_pod("web-1", "10.0.0.5"));
    let mut sd = run_role(&api, "role: pod\n");
    sd.groups(1).await;
    wait_watch(&api, PODS).await;
    // Changes made while the watch is expired are found by the new list.
    api.put(PODS, web_pod("web-2", "10.0.0.6"));
    api.expire(PODS);
    sd.until("relist after 410 event", |s| s.groups.len() == 2)
        .await;
    assert_eq!(api.lists(PODS), 2);

    wait_watch(&api, PODS).await;
    api.gone_next(PODS);
    api.put(PODS, web_pod("web-3", "10.0.0.7"));
    api.close_watches(PODS);
    sd.until("relist after HTTP 410", |s| s.groups.len() == 3)
        .await;

    wait_watch(&api, PODS).await;
    api.put(PODS, web_pod("web-4", "10.0.0.8"));
    api.break_watches(PODS);
    sd.until("relist after a broken stream", |s| s.groups.len() == 4)
        .await;
    assert_eq!(api.lists(PODS), 4, "{:?}", api.requests());
}

#[tokio::test]
async fn events_split_across_chunks_or_sharing_one() {
    let api = FakeApi::start(None).await;
    let mut sd = run_role(&api, "role: pod\n");
    sd.groups(0).await;
    wait_watch(&api, PODS).await;
    let a = json!({"type": "ADDED", "object": web_pod("web-1", "10.0.0.5")}).to_string();
    let b = json!({"type": "ADDED", "object": web_pod("web-2", "10.0.0.6")}).to_string();
    let c = json!({"type": "ADDED", "object": web_pod("web-3", "10.0.0.7")}).to_string();
    let (a1, a2) = a.split_at(a.len() / 2);
    api.raw(PODS, a1);
    api.raw(PODS, &format!("{a2}\n{b}\n\n{c}"));
    // Two complete events so far; the third waits for its newline.
    sd.until("two pods", |s| s.groups.len() == 2).await;
    api.raw(PODS, "\n");
    sd.until("three pods", |s| s.groups.len() == 3).await;
}

async fn wait_watch(api: &FakeApi, path: &str) {
    tokio::time::timeout(Duration::from_secs(5), async {
        while api.watchers(path) == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("a watch opens");
}

fn web_service() -> Value {
    json!({
        "metadata": {"name": "web", "namespace": "shop", "labels": {"tier": "front"}, "annotations": {"prometheus.io/probe": "true"}},
        "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.10", "ports": [
            {"name": "http", "port": 80, "protocol": "TCP"}
        ]}
    })
}

#[tokio::test]
async fn service_role() {
    let api = FakeApi::start(None).await;
    api.put(SERVICES, web_service());
    api.put(SERVICES, json!({
        "metadata": {"name": "ext", "namespace": "shop"},
        "spec": {"type": "ExternalName", "externalName": "db.example.com", "ports": [{"port": 5432, "protocol": "TCP"}]}
    }));
    let mut sd = run_role(&api, "role: service\n");
    let groups = sd.groups(2).await;
    assert_eq!(groups[0].source, "svc/shop/ext");
    assert_eq!(
        map(&groups[0].targets[0]),
        expect(&[
            ("__address__", "ext.shop.svc:5432"),
            ("service_port_number", "5432"),
            ("service_port_protocol", "TCP"),
            ("service_type", "ExternalName"),
            ("service_external_name", "db.example.com"),
        ])
    );
    let g = &groups[1];
    assert_eq!(
        map(&g.labels),
        expect(&[
            ("namespace", "shop"),
            ("service_name", "web"),
            ("service_label_tier", "front"),
            ("service_labelpresent_tier", "true"),
            ("service_annotation_prometheus_io_probe", "true"),
            ("service_annotationpresent_prometheus_io_probe", "true"),
        ])
    );
    assert_eq!(
        map(&g.targets[0]),
        expect(&[
            ("__address__", "web.shop.svc:80"),
            ("service_port_name", "http"),
            ("service_port_number", "80"),
            ("service_port_protocol", "TCP"),
            ("service_type", "ClusterIP"),
            ("service_cluster_ip", "10.96.0.10"),
        ])
    );
}

/// Service labels as the endpoints and endpointslice groups carry them.
fn web_service_labels() -> Vec<(&'static str, &'static str)> {
    vec![
        ("namespace", "shop"),
        ("service_name", "web"),
        ("service_label_tier", "front"),
        ("service_labelpresent_tier", "true"),
        ("service_annotation_prometheus_io_probe", "true"),
        ("service_annotationpresent_prometheus_io_probe", "true"),
    ]
}

/// The targets of pod web-1 behind port 8080 named `web`: the endpoint,
/// then the pod's uncovered container port 9090.
fn pod_backed_targets(endpoint: &[(&'static str, &'static str)]) -> Vec<BTreeMap<String, String>> {
    let mut first = web_pod_labels();
    first.extend_from_slice(endpoint);
    first.extend_from_slice(&[
        ("pod_container_name", "app"),
        ("pod_container_image", "shop/web:1"),
        ("pod_container_port_name", "http"),
        ("pod_container_port_number", "8080"),
        ("pod_container_port_protocol", "TCP"),
    ]);
    let mut extra = web_pod_labels();
    extra.extend_from_slice(&[
        ("__address__", "10.0.0.5:9090"),
        ("pod_container_name", "app"),
        ("pod_container_image", "shop/web:1"),
        ("pod_container_port_number", "9090"),
        ("pod_container_port_protocol", "UDP"),
    ]);
    vec![expect(&first), expect(&extra)]
}

#[tokio::test]
async fn endpoints_role_attaches_pods_and_services() {
    let api = FakeApi::start(None).await;
    api.put(PODS, web_pod("web-1", "10.0.0.5"));
    api.put(SERVICES, web_service());
    api.put(ENDPOINTS, json!({
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
        "subsets": [{
            "addresses": [{"ip": "10.0.0.5", "nodeName": "n1", "targetRef": {"kind": "Pod", "name": "web-1", "namespace": "shop"}}],
            "notReadyAddresses": [{"ip": "10.0.0.9", "hostname": "h9"}],
            "ports": [{"name": "web", "port": 8080, "protocol": "TCP"}]
        }]
    }));
    let mut sd = run_role(&api, "role: endpoints\n");
    let groups = sd.groups(1).await;
    let g = &groups[0];
    assert_eq!(g.source, "endpoints/shop/web");
    let mut want = web_service_labels();
    want.extend_from_slice(&[
        ("endpoints_name", "web"),
        ("endpoints_label_app", "web"),
        ("endpoints_labelpresent_app", "true"),
    ]);
    assert_eq!(map(&g.labels), expect(&want));
    let targets: Vec<_> = g.targets.iter().map(map).collect();
    let backed = pod_backed_targets(&[
        ("__address__", "10.0.0.5:8080"),
        ("endpoint_ready", "true"),
        ("endpoint_port_name", "web"),
        ("endpoint_port_protocol", "TCP"),
        ("endpoint_node_name", "n1"),
        ("endpoint_address_target_kind", "Pod"),
        ("endpoint_address_target_name", "web-1"),
    ]);
    assert_eq!(targets.len(), 3, "{targets:#?}");
    assert_eq!(targets[0], backed[0]);
    assert_eq!(
        targets[1],
        expect(&[
            ("__address__", "10.0.0.9:8080"),
            ("endpoint_ready", "false"),
            ("endpoint_port_name", "web"),
            ("endpoint_port_protocol", "TCP"),
            ("endpoint_hostname", "h9"),
        ])
    );
    assert_eq!(targets[2], backed[1]);

    // A change to the pod shows in the endpoints' targets.
    wait_watch(&api, PODS).await;
    let mut pod = web_pod("web-1", "10.0.0.5");
    pod["status"]["conditions"][1]["status"] = json!("False");
    api.event(PODS, "MODIFIED", pod);
    sd.until("pod not ready", |s| {
        s.groups[0].targets[0].get("__meta_kubernetes_pod_ready") == Some("false")
    })
    .await;
}

#[tokio::test]
async fn endpointslice_role() {
    let api = FakeApi::start(None).await;
    api.put(PODS, web_pod("web-1", "10.0.0.5"));
    api.put(SERVICES, web_service());
    api.put(SLICES, json!({
        "metadata": {"name": "web-x1", "namespace": "shop", "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4",
        "endpoints": [{
            "addresses": ["10.0.0.5"],
            "conditions": {"ready": true, "serving": true, "terminating": false},
            "targetRef": {"kind": "Pod", "name": "web-1", "namespace": "shop"},
            "nodeName": "n1",
            "deprecatedTopology": {"topology.kubernetes.io/zone": "z1"}
        }],
        "ports": [{"name": "web", "port": 8080, "protocol": "TCP", "appProtocol": "http"}]
    }));
    let mut sd = run_role(&api, "role: endpointslice\n");
    let groups = sd.groups(1).await;
    let g = &groups[0];
    assert_eq!(g.source, "endpointslice/shop/web-x1");
    let mut want = web_service_labels();
    want.extend_from_slice(&[
        ("endpointslice_name", "web-x1"),
        ("endpointslice_address_type", "IPv4"),
        ("endpointslice_label_kubernetes_io_service_name", "web"),
        (
            "endpointslice_labelpresent_kubernetes_io_service_name",
            "true",
        ),
    ]);
    assert_eq!(map(&g.labels), expect(&want));
    let backed = pod_backed_targets(&[
        ("__address__", "10.0.0.5:8080"),
        ("endpointslice_port", "8080"),
        ("endpointslice_port_name", "web"),
        ("endpointslice_port_protocol", "TCP"),
        ("endpointslice_port_app_protocol", "http"),
        ("endpointslice_endpoint_conditions_ready", "true"),
        ("endpointslice_endpoint_conditions_serving", "true"),
        ("endpointslice_endpoint_conditions_terminating", "false"),
        ("endpointslice_address_target_kind", "Pod"),
        ("endpointslice_address_target_name", "web-1"),
        (
            "endpointslice_endpoint_topology_topology_kubernetes_io_zone",
            "z1",
        ),
        (
            "endpointslice_endpoint_topology_present_topology_kubernetes_io_zone",
            "true",
        ),
    ]);
    let targets: Vec<_> = g.targets.iter().map(map).collect();
    assert_eq!(targets, backed);
}

#[tokio::test]
async fn node_role() {
    let api = FakeApi::start(None).await;
    api.put(NODES, json!({
        "metadata": {"name": "n1", "labels": {"kubernetes.io/os": "linux"}, "annotations": {"a/b": "c"}},
        "spec": {"providerID": "aws:///eu-west-1a/i-1"},
        "status": {
            "addresses": [
                {"type": "Hostname", "address": "n1.local"},
                {"type": "InternalIP", "address": "192.168.1.10"},
                {"type": "InternalIP", "address": "192.168.1.11"},
                {"type": "ExternalIP", "address": "1.2.3.4"}
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}
        }
    }));
    api.put(NODES, json!({"metadata": {"name": "n2"}, "status": {"addresses": [{"type": "Hostname", "address": "n2.local"}], "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}}}));
    let mut sd = run_role(&api, "role: node\n");
    let groups = sd.groups(2).await;
    let g = &groups[0];
    assert_eq!(g.source, "node/n1");
    assert_eq!(
        map(&g.labels),
        expect(&[
            ("node_name", "n1"),
            ("node_provider_id", "aws:///eu-west-1a/i-1"),
            ("node_label_kubernetes_io_os", "linux"),
            ("node_labelpresent_kubernetes_io_os", "true"),
            ("node_annotation_a_b", "c"),
            ("node_annotationpresent_a_b", "true"),
        ])
    );
    assert_eq!(
        map(&g.targets[0]),
        expect(&[
            ("__address__", "192.168.1.10:10250"),
            ("instance", "n1"),
            ("node_address_Hostname", "n1.local"),
            ("node_address_InternalIP", "192.168.1.10"),
            ("node_address_ExternalIP", "1.2.3.4"),
        ])
    );
    // Only a host name: it is the address.
    assert_eq!(addresses(&groups[1]), ["n2.local:10250"]);
}

#[tokio::test]
async fn ingress_role() {
    let api = FakeApi::start(None).await;
    api.put(INGRESSES, json!({
        "metadata": {"name": "shop", "namespace": "shop", "labels": {"app": "shop"}},
        "spec": {
            "ingressClassName": "nginx",
            "tls": [{"hosts": ["*.example.com"]}],
            "rules": [
                {"host": "www.example.com", "http": {"paths": [{"path": "/"}, {"path": "/api"}]}},
                {"host": "shop.test"}
            ]
        }
    }));
    let mut sd = run_role(&api, "role: ingress\n");
    let g = &sd.groups(1).await[0];
    assert_eq!(
        map(&g.labels),
        expect(&[
            ("namespace", "shop"),
            ("ingress_name", "shop"),
            ("ingress_class_name", "nginx"),
            ("ingress_label_app", "shop"),
            ("ingress_labelpresent_app", "true"),
        ])
    );
    let targets: Vec<_> = g.targets.iter().map(map).collect();
    assert_eq!(
        targets,
        [
            expect(&[
                ("__address__", "www.example.com"),
                ("ingress_scheme", "https"),
                ("ingress_host", "www.example.com"),
                ("ingress_path", "/")
            ]),
            expect(&[
                ("__address__", "www.example.com"),
                ("ingress_scheme", "https"),
                ("ingress_host", "www.example.com"),
                ("ingress_path", "/api")
            ]),
            expect(&[
                ("__address__", "shop.test"),
                ("ingress_scheme", "http"),
                ("ingress_host", "shop.test"),
                ("ingress_path", "/")
            ]),
        ]
    );
}

#[tokio::test]
async fn attach_metadata_node_and_selectors_and_namespaces() {
    let api = FakeApi::start(None).await;
    let ns_pods = "/api/v1/namespaces/shop/pods";
    api.put(ns_pods, web_pod("web-1", "10.0.0.5"));
    api.put(
        NODES,
        json!({"metadata": {"name": "n1", "labels": {"zone": "z1"}, "annotations": {"x": "y"}}}),
    );
    let mut sd = run_role(
        &api,
        "role: pod\nnamespaces: {names: [shop]}\nattach_metadata: {node: true}\nselectors:\n  - role: pod\n    label: app.kubernetes.io/name=web\n    field: status.phase=Running\n",
    );
    let g = &sd.groups(1).await[0];
    assert_eq!(g.labels.get("__meta_kubernetes_node_name"), Some("n1"));
    assert_eq!(
        g.labels.get("__meta_kubernetes_node_label_zone"),
        Some("z1")
    );
    assert_eq!(
        g.labels.get("__meta_kubernetes_node_labelpresent_zone"),
        Some("true")
    );
    // Node annotations are not attached (as Prometheus).
    assert_eq!(g.labels.get("__meta_kubernetes_node_annotation_x"), None);
    let reqs = api.requests();
    assert!(
        reqs.iter().any(|r| r == "/api/v1/namespaces/shop/pods?labelSelector=app.kubernetes.io%2Fname%3Dweb&fieldSelector=status.phase%3DRunning"),
        "{reqs:?}"
    );
    // The node list carries no pod selector.
    assert!(reqs.iter().any(|r| r == NODES), "{reqs:?}");
}
