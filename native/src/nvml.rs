//! The GPU inventory from NVML, opened with `dlopen` at run time so the addon loads (and answers
//! about CPU and memory) on machines without an NVIDIA driver. Everything here runs on the NVML
//! thread (`nvml_thread.rs`), which owns the one `Session`.

use std::ffi::{c_char, c_int, c_uint, c_void, CStr, CString};
use std::ptr;

use crate::sys;

type Return = c_int;
type Device = *mut c_void;

const SUCCESS: Return = 0;
const ERROR_NOT_SUPPORTED: Return = 3;
const ERROR_NOT_FOUND: Return = 6;
const DEVICE_MIG_ENABLE: c_uint = 1;

// Buffer sizes from nvml.h (NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE, NVML_DEVICE_UUID_V2_BUFFER_SIZE,
// NVML_DEVICE_NAME_V2_BUFFER_SIZE).
const DRIVER_VERSION_LEN: usize = 80;
const UUID_LEN: usize = 96;
const NAME_LEN: usize = 96;

/// nvmlMemory_t.
#[repr(C)]
#[derive(Default)]
struct Memory {
    total: u64,
    free: u64,
    used: u64,
}

/// nvmlPciInfo_t as `nvmlDeviceGetPciInfo_v3` fills it.
#[repr(C)]
#[derive(Default)]
struct PciInfo {
    bus_id_legacy: [u8; 16],
    domain: c_uint,
    bus: c_uint,
    device: c_uint,
    pci_device_id: c_uint,
    pci_sub_system_id: c_uint,
    bus_id: [u8; 32],
}

type StringFn = unsafe extern "C" fn(Device, *mut c_char, c_uint) -> Return;

/// The entry points used, resolved once per `dlopen`.
struct Api {
    init: unsafe extern "C" fn() -> Return,
    shutdown: unsafe extern "C" fn() -> Return,
    driver_version: unsafe extern "C" fn(*mut c_char, c_uint) -> Return,
    device_count: unsafe extern "C" fn(*mut c_uint) -> Return,
    handle_by_index: unsafe extern "C" fn(c_uint, *mut Device) -> Return,
    uuid: StringFn,
    name: StringFn,
    memory_info: unsafe extern "C" fn(Device, *mut Memory) -> Return,
    pci_info: unsafe extern "C" fn(Device, *mut PciInfo) -> Return,
    // Older drivers lack these; their absence means "unknown" or "no MIG", not a failure.
    error_string: Option<unsafe extern "C" fn(Return) -> *const c_char>,
    cuda_version: Option<(&'static str, unsafe extern "C" fn(*mut c_int) -> Return)>,
    mig: Option<MigApi>,
}

struct MigApi {
    mode: unsafe extern "C" fn(Device, *mut c_uint, *mut c_uint) -> Return,
    max_count: unsafe extern "C" fn(Device, *mut c_uint) -> Return,
    handle_by_index: unsafe extern "C" fn(Device, c_uint, *mut Device) -> Return,
}

/// Looks up `name` and reinterprets it as the function pointer type `F`.
///
/// # Safety
/// `F` must be an `extern "C"` function pointer type matching the symbol's C signature.
unsafe fn symbol<F: Copy>(handle: *mut c_void, name: &CStr) -> Option<F> {
    const { assert!(std::mem::size_of::<F>() == std::mem::size_of::<*mut c_void>()) };
    let address = sys::dlsym(handle, name.as_ptr());
    (!address.is_null()).then(|| std::mem::transmute_copy(&address))
}

unsafe fn required<F: Copy>(handle: *mut c_void, path: &str, name: &CStr) -> Result<F, String> {
    symbol(handle, name).ok_or_else(|| format!("{} not found in {path}", name.to_string_lossy()))
}

impl Api {
    /// # Safety
    /// `handle` must be a live handle from `dlopen` of an NVML library.
    unsafe fn load(handle: *mut c_void, path: &str) -> Result<Api, String> {
        let mig = match (
            symbol(handle, c"nvmlDeviceGetMigMode"),
            symbol(handle, c"nvmlDeviceGetMaxMigDeviceCount"),
            symbol(handle, c"nvmlDeviceGetMigDeviceHandleByIndex"),
        ) {
            (Some(mode), Some(max_count), Some(handle_by_index)) => Some(MigApi {
                mode,
                max_count,
                handle_by_index,
            }),
            _ => None,
        };
        let cuda_version = symbol(handle, c"nvmlSystemGetCudaDriverVersion_v2")
            .map(|f| ("nvmlSystemGetCudaDriverVersion_v2", f))
            .or_else(|| {
                symbol(handle, c"nvmlSystemGetCudaDriverVersion")
                    .map(|f| ("nvmlSystemGetCudaDriverVersion", f))
            });
        Ok(Api {
            init: required(handle, path, c"nvmlInit_v2")?,
            shutdown: required(handle, path, c"nvmlShutdown")?,
            driver_version: required(handle, path, c"nvmlSystemGetDriverVersion")?,
            device_count: required(handle, path, c"nvmlDeviceGetCount_v2")?,
            handle_by_index: required(handle, path, c"nvmlDeviceGetHandleByIndex_v2")?,
            uuid: required(handle, path, c"nvmlDeviceGetUUID")?,
            name: required(handle, path, c"nvmlDeviceGetName")?,
            memory_info: required(handle, path, c"nvmlDeviceGetMemoryInfo")?,
            pci_info: required(handle, path, c"nvmlDeviceGetPciInfo_v3")?,
            error_string: symbol(handle, c"nvmlErrorString"),
            cuda_version,
            mig,
        })
    }
}

/// One GPU as `GpuInfo` describes it.
pub struct Gpu {
    pub index: u32,
    pub uuid: String,
    pub name: String,
    pub memory_total: u64,
    pub memory_free: u64,
    pub pci_bus_id: String,
    pub mig_enabled: bool,
    pub mig_devices: Vec<String>,
}

/// What one query learnt, as `NvmlInfo` plus the GPU list.
#[derive(Default)]
pub struct Report {
    pub loaded: bool,
    pub driver_version: Option<String>,
    pub cuda_driver_version: Option<String>,
    pub gpus: Vec<Gpu>,
    pub error: Option<String>,
}

impl Report {
    pub fn failed(error: String) -> Report {
        Report {
            error: Some(error),
            ..Report::default()
        }
    }
}

/// An opened NVML library. Dropping it shuts NVML down (if it was initialised) and closes it.
struct Library {
    path: String,
    handle: *mut c_void,
    api: Api,
    initialized: bool,
}

impl Library {
    fn open(path: &str) -> Result<Library, String> {
        let c_path = CString::new(path)
            .map_err(|_| format!("cannot open {path}: the path contains a NUL byte"))?;
        // SAFETY: dlopen takes a NUL-terminated path; dlerror is read on the same thread.
        let handle = unsafe { sys::dlopen(c_path.as_ptr(), sys::RTLD_NOW) };
        if handle.is_null() {
            return Err(format!("cannot open {path}: {}", dlerror()));
        }
        // SAFETY: `handle` came from dlopen just above.
        match unsafe { Api::load(handle, path) } {
            Ok(api) => Ok(Library {
                path: path.to_owned(),
                handle,
                api,
                initialized: false,
            }),
            Err(e) => {
                // SAFETY: nothing from this handle outlives this branch.
                unsafe { sys::dlclose(handle) };
                Err(e)
            }
        }
    }

    /// `Ok` for NVML_SUCCESS, else the error the result reports: the call and NVML's message.
    fn check(&self, call: &str, code: Return) -> Result<(), String> {
        if code == SUCCESS {
            return Ok(());
        }
        // SAFETY: nvmlErrorString returns a static string (or NULL) for any code.
        let message = self
            .api
            .error_string
            .map(|f| unsafe { f(code) })
            .filter(|p| !p.is_null())
            .map(|p| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned());
        let message = message.as_deref().unwrap_or("NVML error");
        Err(format!("{call} failed: {message} ({code})"))
    }

    fn string<const N: usize>(
        &self,
        call: &str,
        fill: impl FnOnce(*mut c_char, c_uint) -> Return,
    ) -> Result<String, String> {
        let mut buf = [0u8; N];
        self.check(call, fill(buf.as_mut_ptr().cast(), N as c_uint))?;
        Ok(c_string(&buf))
    }

    /// Reads the whole inventory. Any failure empties the GPU list but keeps the versions read.
    fn inventory(&self) -> Report {
        let mut report = Report {
            loaded: true,
            ..Report::default()
        };
        if let Err(error) = self.fill(&mut report) {
            report.gpus.clear();
            report.error = Some(error);
        }
        report
    }

    fn fill(&self, report: &mut Report) -> Result<(), String> {
        let api = &self.api;
        // SAFETY (all calls below): NVML is initialised, and each buffer or out-parameter is
        // the size and type the NVML signature declares.
        report.driver_version = Some(
            self.string::<DRIVER_VERSION_LEN>("nvmlSystemGetDriverVersion", |buf, len| unsafe {
                (api.driver_version)(buf, len)
            })?,
        );
        if let Some((call, cuda_version)) = api.cuda_version {
            let mut version: c_int = 0;
            self.check(call, unsafe { cuda_version(&mut version) })?;
            report.cuda_driver_version =
                Some(format!("{}.{}", version / 1000, version % 1000 / 10));
        }
        let mut count: c_uint = 0;
        self.check("nvmlDeviceGetCount_v2", unsafe {
            (api.device_count)(&mut count)
        })?;
        for index in 0..count {
            let gpu = self.gpu(index)?;
            report.gpus.push(gpu);
        }
        Ok(())
    }

    fn gpu(&self, index: c_uint) -> Result<Gpu, String> {
        let api = &self.api;
        let mut device: Device = ptr::null_mut();
        // SAFETY: see `fill`.
        self.check("nvmlDeviceGetHandleByIndex_v2", unsafe {
            (api.handle_by_index)(index, &mut device)
        })?;
        let mut memory = Memory::default();
        self.check("nvmlDeviceGetMemoryInfo", unsafe {
            (api.memory_info)(device, &mut memory)
        })?;
        let mut pci = PciInfo::default();
        self.check("nvmlDeviceGetPciInfo_v3", unsafe {
            (api.pci_info)(device, &mut pci)
        })?;
        let (mig_enabled, mig_devices) = self.mig(device)?;
        Ok(Gpu {
            index,
            uuid: self.uuid(device)?,
            name: self.string::<NAME_LEN>("nvmlDeviceGetName", |buf, len| unsafe {
                (api.name)(device, buf, len)
            })?,
            memory_total: memory.total,
            memory_free: memory.free,
            pci_bus_id: c_string(&pci.bus_id),
            mig_enabled,
            mig_devices,
        })
    }

    fn uuid(&self, device: Device) -> Result<String, String> {
        // SAFETY: see `fill`.
        self.string::<UUID_LEN>("nvmlDeviceGetUUID", |buf, len| unsafe {
            (self.api.uuid)(device, buf, len)
        })
    }

    /// The current MIG mode and the UUIDs in the occupied MIG slots.
    fn mig(&self, device: Device) -> Result<(bool, Vec<String>), String> {
        let Some(mig) = &self.api.mig else {
            return Ok((false, Vec::new()));
        };
        let (mut current, mut pending): (c_uint, c_uint) = (0, 0);
        // SAFETY: see `fill`.
        match unsafe { (mig.mode)(device, &mut current, &mut pending) } {
            ERROR_NOT_SUPPORTED => return Ok((false, Vec::new())),
            code => self.check("nvmlDeviceGetMigMode", code)?,
        }
        if current != DEVICE_MIG_ENABLE {
            return Ok((false, Vec::new()));
        }
        let mut slots: c_uint = 0;
        self.check("nvmlDeviceGetMaxMigDeviceCount", unsafe {
            (mig.max_count)(device, &mut slots)
        })?;
        let mut devices = Vec::new();
        for slot in 0..slots {
            let mut handle: Device = ptr::null_mut();
            match unsafe { (mig.handle_by_index)(device, slot, &mut handle) } {
                // Slots empty after a partial reconfiguration.
                ERROR_NOT_FOUND => continue,
                code => self.check("nvmlDeviceGetMigDeviceHandleByIndex", code)?,
            }
            devices.push(self.uuid(handle)?);
        }
        Ok((true, devices))
    }
}

impl Drop for Library {
    fn drop(&mut self) {
        // SAFETY: the handle is live until here; no function pointer from it outlives `self`.
        unsafe {
            if self.initialized {
                (self.api.shutdown)();
            }
            sys::dlclose(self.handle);
        }
    }
}

/// The text before the first NUL (all of it when NVML filled the buffer without one).
fn c_string(buf: &[u8]) -> String {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

fn dlerror() -> String {
    // SAFETY: dlerror returns NULL or a NUL-terminated string valid until the next dl* call on
    // this thread.
    let message = unsafe { sys::dlerror() };
    if message.is_null() {
        "unknown dlopen error".to_owned()
    } else {
        unsafe { CStr::from_ptr(message) }
            .to_string_lossy()
            .into_owned()
    }
}

/// The NVML state of this process: the library stays open and initialised between queries.
#[derive(Default)]
pub struct Session {
    library: Option<Library>,
}

impl Session {
    /// Opens `path` if it is not the open library (closing the old one), initialises NVML unless
    /// an earlier query did, and reads the inventory afresh.
    pub fn query(&mut self, path: &str) -> Report {
        let library = match self.library.take() {
            Some(library) if library.path == path => library,
            _ => match Library::open(path) {
                Ok(library) => library,
                Err(error) => return Report::failed(error),
            },
        };
        let library = self.library.insert(library);
        if !library.initialized {
            // SAFETY: nvmlInit_v2 takes no arguments; the library is open.
            if let Err(error) = library.check("nvmlInit_v2", unsafe { (library.api.init)() }) {
                return Report::failed(error);
            }
            library.initialized = true;
        }
        library.inventory()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_strings_stop_at_the_first_nul() {
        assert_eq!(c_string(b"560.35.03\0garbage"), "560.35.03");
        assert_eq!(c_string(b"full"), "full");
    }

    #[test]
    fn a_missing_library_is_an_error_naming_it() {
        let report = Session::default().query("/nonexistent/libnvidia-ml.so.1");
        assert!(!report.loaded);
        let error = report.error.unwrap();
        assert!(
            error.starts_with("cannot open /nonexistent/libnvidia-ml.so.1: "),
            "{error}"
        );
    }

    #[test]
    fn a_library_without_nvml_names_the_missing_symbol() {
        let report = Session::default().query("libc.so.6");
        assert_eq!(
            report.error.as_deref(),
            Some("nvmlInit_v2 not found in libc.so.6")
        );
    }
}
