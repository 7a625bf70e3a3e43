//! Node-API, declared by hand from `js_native_api.h` (this crate takes no dependencies), and a
//! thin layer that turns statuses into `Result`s. The symbols are not linked at build time: the
//! host (Node, Bun, Deno) provides them when it loads the addon.

#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::ptr;

#[repr(C)]
pub struct napi_env__ {
    _opaque: [u8; 0],
}
#[repr(C)]
pub struct napi_value__ {
    _opaque: [u8; 0],
}
#[repr(C)]
pub struct napi_callback_info__ {
    _opaque: [u8; 0],
}

pub type napi_env = *mut napi_env__;
pub type napi_value = *mut napi_value__;
pub type napi_callback_info = *mut napi_callback_info__;
type napi_status = c_int;
type napi_valuetype = c_int;
pub type napi_callback = unsafe extern "C" fn(napi_env, napi_callback_info) -> napi_value;

const NAPI_OK: napi_status = 0;

extern "C" {
    fn napi_get_null(env: napi_env, result: *mut napi_value) -> napi_status;
    fn napi_get_boolean(env: napi_env, value: bool, result: *mut napi_value) -> napi_status;
    fn napi_create_object(env: napi_env, result: *mut napi_value) -> napi_status;
    fn napi_create_array_with_length(
        env: napi_env,
        length: usize,
        result: *mut napi_value,
    ) -> napi_status;
    fn napi_create_double(env: napi_env, value: f64, result: *mut napi_value) -> napi_status;
    fn napi_create_string_utf8(
        env: napi_env,
        str: *const c_char,
        length: usize,
        result: *mut napi_value,
    ) -> napi_status;
    fn napi_create_function(
        env: napi_env,
        utf8name: *const c_char,
        length: usize,
        cb: Option<napi_callback>,
        data: *mut c_void,
        result: *mut napi_value,
    ) -> napi_status;
    fn napi_typeof(env: napi_env, value: napi_value, result: *mut napi_valuetype) -> napi_status;
    fn napi_get_value_double(env: napi_env, value: napi_value, result: *mut f64) -> napi_status;
    fn napi_get_value_bool(env: napi_env, value: napi_value, result: *mut bool) -> napi_status;
    fn napi_get_value_string_utf8(
        env: napi_env,
        value: napi_value,
        buf: *mut c_char,
        bufsize: usize,
        result: *mut usize,
    ) -> napi_status;
    fn napi_set_property(
        env: napi_env,
        object: napi_value,
        key: napi_value,
        value: napi_value,
    ) -> napi_status;
    fn napi_get_named_property(
        env: napi_env,
        object: napi_value,
        utf8name: *const c_char,
        result: *mut napi_value,
    ) -> napi_status;
    fn napi_set_element(
        env: napi_env,
        object: napi_value,
        index: u32,
        value: napi_value,
    ) -> napi_status;
    fn napi_get_cb_info(
        env: napi_env,
        cbinfo: napi_callback_info,
        argc: *mut usize,
        argv: *mut napi_value,
        this_arg: *mut napi_value,
        data: *mut *mut c_void,
    ) -> napi_status;
    fn napi_throw_error(env: napi_env, code: *const c_char, msg: *const c_char) -> napi_status;
    fn napi_throw_type_error(env: napi_env, code: *const c_char, msg: *const c_char)
        -> napi_status;
    fn napi_throw_range_error(
        env: napi_env,
        code: *const c_char,
        msg: *const c_char,
    ) -> napi_status;
    fn napi_is_exception_pending(env: napi_env, result: *mut bool) -> napi_status;
}

/// `typeof` as Node-API reports it (only the kinds the addon tells apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    Undefined,
    Null,
    Boolean,
    Number,
    String,
    Object,
    Other,
}

/// An exception to raise in JavaScript when a callback returns.
#[derive(Debug)]
pub enum Throw {
    TypeError(String),
    RangeError(String),
    Error(String),
    /// One is already pending (a getter threw, say): return and let it propagate.
    Pending,
}

pub type JsResult<T> = Result<T, Throw>;

/// The environment of the current call. Only valid inside the callback that received it.
#[derive(Clone, Copy)]
pub struct Env(pub napi_env);

/// Calls a Node-API function that writes its result through a trailing out-pointer.
macro_rules! out {
    ($env:expr, $f:ident($($arg:expr),*)) => {{
        let mut result = std::mem::MaybeUninit::uninit();
        // SAFETY: `$env` is the live environment of this call and `result` is written on success.
        $env.check(unsafe { $f($env.0, $($arg,)* result.as_mut_ptr()) })?;
        Ok(unsafe { result.assume_init() })
    }};
}

impl Env {
    fn check(self, status: napi_status) -> JsResult<()> {
        if status == NAPI_OK {
            return Ok(());
        }
        let mut pending = false;
        // SAFETY: the environment is live.
        unsafe { napi_is_exception_pending(self.0, &mut pending) };
        Err(if pending {
            Throw::Pending
        } else {
            Throw::Error(format!("a Node-API call failed with status {status}"))
        })
    }

    pub fn null(self) -> JsResult<napi_value> {
        out!(self, napi_get_null())
    }

    pub fn boolean(self, value: bool) -> JsResult<napi_value> {
        out!(self, napi_get_boolean(value))
    }

    pub fn number(self, value: f64) -> JsResult<napi_value> {
        out!(self, napi_create_double(value))
    }

    pub fn string(self, value: &str) -> JsResult<napi_value> {
        out!(
            self,
            napi_create_string_utf8(value.as_ptr().cast(), value.len())
        )
    }

    pub fn object(self) -> JsResult<napi_value> {
        out!(self, napi_create_object())
    }

    pub fn array(self, length: usize) -> JsResult<napi_value> {
        out!(self, napi_create_array_with_length(length))
    }

    pub fn function(self, name: &str, callback: napi_callback) -> JsResult<napi_value> {
        out!(
            self,
            napi_create_function(
                name.as_ptr().cast(),
                name.len(),
                Some(callback),
                ptr::null_mut()
            )
        )
    }

    pub fn set(self, object: napi_value, key: napi_value, value: napi_value) -> JsResult<()> {
        // SAFETY: all handles belong to this environment.
        self.check(unsafe { napi_set_property(self.0, object, key, value) })
    }

    pub fn set_element(self, array: napi_value, index: u32, value: napi_value) -> JsResult<()> {
        // SAFETY: all handles belong to this environment.
        self.check(unsafe { napi_set_element(self.0, array, index, value) })
    }

    pub fn get(self, object: napi_value, key: &CStr) -> JsResult<napi_value> {
        out!(self, napi_get_named_property(object, key.as_ptr()))
    }

    pub fn type_of(self, value: napi_value) -> JsResult<ValueType> {
        let kind: napi_valuetype = out!(self, napi_typeof(value))?;
        Ok(match kind {
            0 => ValueType::Undefined,
            1 => ValueType::Null,
            2 => ValueType::Boolean,
            3 => ValueType::Number,
            4 => ValueType::String,
            6 => ValueType::Object,
            _ => ValueType::Other,
        })
    }

    pub fn get_bool(self, value: napi_value) -> JsResult<bool> {
        out!(self, napi_get_value_bool(value))
    }

    pub fn get_number(self, value: napi_value) -> JsResult<f64> {
        out!(self, napi_get_value_double(value))
    }

    pub fn get_string(self, value: napi_value) -> JsResult<String> {
        let len: usize = out!(self, napi_get_value_string_utf8(value, ptr::null_mut(), 0))?;
        let mut buf = vec![0u8; len + 1];
        let written: usize = out!(
            self,
            napi_get_value_string_utf8(value, buf.as_mut_ptr().cast(), buf.len())
        )?;
        buf.truncate(written);
        // Node-API writes valid UTF-8 (it replaces lone surrogates).
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    /// The first `N` arguments, `undefined` where fewer were passed.
    pub fn args<const N: usize>(self, info: napi_callback_info) -> JsResult<[napi_value; N]> {
        let mut argv = [ptr::null_mut(); N];
        let mut argc = N;
        // SAFETY: `argv` has room for `argc` values.
        self.check(unsafe {
            napi_get_cb_info(
                self.0,
                info,
                &mut argc,
                argv.as_mut_ptr(),
                ptr::null_mut(),
                ptr::null_mut(),
            )
        })?;
        Ok(argv)
    }

    /// Raises `throw` in JavaScript (nothing to do when one is already pending).
    pub fn throw(self, throw: Throw) {
        let (raise, message): (unsafe extern "C" fn(_, _, _) -> _, String) = match throw {
            Throw::TypeError(m) => (napi_throw_type_error, m),
            Throw::RangeError(m) => (napi_throw_range_error, m),
            Throw::Error(m) => (napi_throw_error, m),
            Throw::Pending => return,
        };
        let message = CString::new(message.replace('\0', " ")).unwrap_or_default();
        // SAFETY: the environment is live and the message is NUL-terminated.
        unsafe { raise(self.0, ptr::null(), message.as_ptr()) };
    }
}
