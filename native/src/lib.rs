//! `@bento/native`: reads the CPU and memory limits this process runs under (cgroup v1 or v2) and
//! the NVIDIA GPU inventory (NVML), following docs/architecture.md ("The resource probe").
//!
//! The probe itself builds a plain `Value` tree so it can be tested with `cargo test`; the
//! Node-API glue (`addon`, `napi`) is compiled only into the addon, where Node, Bun or Deno
//! provide the `napi_*` symbols at load time.

mod cgroup;
mod cpu;
mod fsread;
mod memory;
mod mountinfo;
mod nvml;
mod nvml_thread;
mod sys;
mod value;

#[cfg(not(test))]
mod addon;
#[cfg(not(test))]
mod napi;
#[cfg(test)]
mod testdir;

use std::cell::RefCell;

use cgroup::{Cgroup, Hierarchy, Membership};
use fsread::Reader;
pub use value::Value;

const DEFAULT_NVML_LIBRARY: &str = "libnvidia-ml.so.1";
const DEFAULT_NVML_TIMEOUT_MS: f64 = 5000.0;

/// `probe()`'s options; `None` takes the documented default.
#[derive(Debug, Default)]
pub struct Options {
    pub root: Option<String>,
    pub gpu: Option<bool>,
    pub nvml_library: Option<String>,
    pub nvml_timeout_ms: Option<f64>,
}

/// What one thread keeps between probes: open files, buffers, and the last resolved hierarchy.
#[derive(Default)]
struct State {
    reader: Reader,
    resolved: Option<Resolved>,
}

/// A hierarchy stays valid while the process's cgroups and the mount table are unchanged.
struct Resolved {
    membership: Membership,
    mounts_version: u64,
    hierarchy: Hierarchy,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::default();
}

/// Probes CPU, memory and (unless `gpu` is false) GPUs, returning a `NativeProbeResult`.
pub fn probe(options: &Options) -> Value {
    STATE.with(|state| match state.try_borrow_mut() {
        Ok(mut state) => probe_with(&mut state, options),
        Err(_) => probe_with(&mut State::default(), options),
    })
}

fn probe_with(state: &mut State, options: &Options) -> Value {
    let reader = &mut state.reader;
    reader.begin(options.root.as_deref().unwrap_or("/"));
    let membership = reader
        .read("/proc/self", "cgroup")
        .map(|text| cgroup::parse_membership(&text))
        .unwrap_or_default();
    let mounts_version = reader.refresh_mounts();
    let resolved = match state.resolved.take() {
        Some(r) if r.mounts_version == mounts_version && r.membership == membership => r,
        _ => Resolved {
            hierarchy: cgroup::resolve(&membership, reader.mounts()),
            membership,
            mounts_version,
        },
    };
    let hierarchy = &state.resolved.insert(resolved).hierarchy;
    let cpu = cpu::probe(reader, hierarchy);
    let memory = memory::probe(reader, hierarchy);
    reader.finish();
    let (gpus, nvml) = if options.gpu.unwrap_or(true) {
        let library = options
            .nvml_library
            .clone()
            .or_else(|| env_var("BENTO_NVML_LIBRARY"))
            .unwrap_or_else(|| DEFAULT_NVML_LIBRARY.to_owned());
        let timeout_ms = options
            .nvml_timeout_ms
            .or_else(|| env_var("BENTO_NVML_TIMEOUT_MS")?.trim().parse().ok())
            .filter(|ms: &f64| ms.is_finite() && *ms >= 0.0)
            .unwrap_or(DEFAULT_NVML_TIMEOUT_MS);
        let report = nvml_thread::query(&library, timeout_ms);
        gpu_values(report, Some(library))
    } else {
        gpu_values(nvml::Report::default(), None)
    };
    Value::Object(vec![
        ("cpu", cpu_value(cpu, hierarchy)),
        ("memory", memory_value(memory, hierarchy)),
        ("gpus", gpus),
        ("nvml", nvml),
    ])
}

/// A set, non-empty environment variable.
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn cgroup_value(cgroup: Option<&Cgroup>, hierarchy: &Hierarchy) -> Value {
    Value::Object(vec![
        ("version", cgroup.map(|c| u32::from(c.version)).into()),
        ("path", cgroup.map(|c| c.path.as_str()).into()),
        ("dir", cgroup.map(|c| c.dir.as_str()).into()),
        ("hybrid", hierarchy.hybrid.into()),
    ])
}

fn cpu_value(cpu: cpu::Cpu, hierarchy: &Hierarchy) -> Value {
    let cgroup = hierarchy.get(cgroup::Controller::Cpu);
    Value::Object(vec![
        ("host", cpu.host.into()),
        ("affinity", cpu.affinity.into()),
        ("quota", cpu.quota.into()),
        ("quotaSource", cpu.quota_source.into()),
        ("cpuset", cpu.cpuset.into()),
        ("cpusetSource", cpu.cpuset_source.into()),
        ("effective", cpu.effective.into()),
        ("cgroup", cgroup_value(cgroup, hierarchy)),
    ])
}

fn memory_value(memory: memory::Memory, hierarchy: &Hierarchy) -> Value {
    let cgroup = hierarchy.get(cgroup::Controller::Memory);
    Value::Object(vec![
        ("limit", memory.limit.into()),
        ("limitSource", memory.limit_source.into()),
        ("usage", memory.usage.into()),
        ("host", memory.host.into()),
        ("cgroup", cgroup_value(cgroup, hierarchy)),
    ])
}

/// The `gpus` array and the `nvml` object; `library` is `None` when GPUs were not probed.
fn gpu_values(report: nvml::Report, library: Option<String>) -> (Value, Value) {
    let gpus = report.gpus.into_iter().map(|gpu| {
        Value::Object(vec![
            ("index", gpu.index.into()),
            ("uuid", gpu.uuid.into()),
            ("name", gpu.name.into()),
            ("memoryTotal", gpu.memory_total.into()),
            ("memoryFree", gpu.memory_free.into()),
            ("pciBusId", gpu.pci_bus_id.into()),
            (
                "mig",
                Value::Object(vec![
                    ("enabled", gpu.mig_enabled.into()),
                    ("devices", gpu.mig_devices.into()),
                ]),
            ),
        ])
    });
    let nvml = Value::Object(vec![
        ("loaded", report.loaded.into()),
        ("library", library.into()),
        ("driverVersion", report.driver_version.into()),
        ("cudaDriverVersion", report.cuda_driver_version.into()),
        ("error", report.error.into()),
    ]);
    (Value::Array(gpus.collect()), nvml)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdir::TestDir;

    fn keys(value: &Value) -> Vec<&'static str> {
        match value {
            Value::Object(entries) => entries.iter().map(|(k, _)| *k).collect(),
            other => panic!("not an object: {other:?}"),
        }
    }

    fn number(value: Option<&Value>) -> f64 {
        match value {
            Some(Value::Number(n)) => *n,
            other => panic!("not a number: {other:?}"),
        }
    }

    #[test]
    fn a_fixture_probe_reports_paths_without_the_root() {
        let dir = TestDir::new();
        dir.write("/sys/devices/system/cpu/online", "0-3,6\n");
        dir.write("/proc/self/status", "Cpus_allowed_list:\t0-2\n");
        dir.write("/proc/meminfo", "MemTotal: 1024 kB\n");
        dir.write("/proc/self/cgroup", "0::/ctr\n");
        dir.write(
            "/proc/self/mountinfo",
            "25 20 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
        );
        dir.write("/sys/fs/cgroup/ctr/cpu.max", "150000 100000\n");
        dir.write("/sys/fs/cgroup/ctr/memory.max", "1048576\n");
        let result = probe(&Options {
            root: Some(dir.path().to_owned()),
            gpu: Some(false),
            ..Options::default()
        });
        assert_eq!(keys(&result), ["cpu", "memory", "gpus", "nvml"]);
        let cpu = result.get("cpu").unwrap();
        assert_eq!(
            keys(cpu),
            [
                "host",
                "affinity",
                "quota",
                "quotaSource",
                "cpuset",
                "cpusetSource",
                "effective",
                "cgroup"
            ]
        );
        assert_eq!(number(cpu.get("host")), 5.0);
        assert_eq!(number(cpu.get("affinity")), 3.0);
        assert_eq!(number(cpu.get("effective")), 1.5);
        assert_eq!(
            cpu.get("quotaSource"),
            Some(&Value::from("/sys/fs/cgroup/ctr/cpu.max"))
        );
        let cgroup = cpu.get("cgroup").unwrap();
        assert_eq!(
            cgroup,
            &Value::Object(vec![
                ("version", Value::Number(2.0)),
                ("path", "/ctr".into()),
                ("dir", "/sys/fs/cgroup/ctr".into()),
                ("hybrid", false.into()),
            ])
        );
        let memory = result.get("memory").unwrap();
        assert_eq!(
            keys(memory),
            ["limit", "limitSource", "usage", "host", "cgroup"]
        );
        assert_eq!(number(memory.get("limit")), 1048576.0);
        assert_eq!(number(memory.get("host")), 1048576.0);
        assert_eq!(result.get("gpus"), Some(&Value::Array(vec![])));
        assert_eq!(
            result.get("nvml"),
            Some(&Value::Object(vec![
                ("loaded", false.into()),
                ("library", Value::Null),
                ("driverVersion", Value::Null),
                ("cudaDriverVersion", Value::Null),
                ("error", Value::Null),
            ]))
        );
    }

    #[test]
    fn affinity_falls_back_to_host_without_a_status_file() {
        let dir = TestDir::new();
        dir.write("/sys/devices/system/cpu/online", "0-5\n");
        let result = probe(&Options {
            root: Some(dir.path().to_owned()),
            gpu: Some(false),
            ..Options::default()
        });
        let cpu = result.get("cpu").unwrap();
        assert_eq!(number(cpu.get("affinity")), 6.0);
        assert_eq!(
            cpu.get("cgroup").unwrap().get("version"),
            Some(&Value::Null)
        );
    }

    #[test]
    fn the_real_machine_answers_sane_counts() {
        let result = probe(&Options {
            gpu: Some(false),
            ..Options::default()
        });
        let cpu = result.get("cpu").unwrap();
        let (host, affinity, effective) = (
            number(cpu.get("host")),
            number(cpu.get("affinity")),
            number(cpu.get("effective")),
        );
        assert!(
            host >= 1.0 && affinity >= 1.0 && effective > 0.0 && effective <= host.min(affinity)
        );
        assert!(number(result.get("memory").unwrap().get("host")) > 0.0);
    }
}
