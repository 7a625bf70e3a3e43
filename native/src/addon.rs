//! The addon's JavaScript surface: `probe(options?)` and `version`. Every entry point catches
//! panics, because unwinding into the JavaScript engine would abort the whole process.

use std::any::Any;
use std::ffi::CStr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use crate::napi::{napi_callback_info, napi_env, napi_value, Env, JsResult, Throw, ValueType};
use crate::{Options, Value};

/// Node-API looks this symbol up in every addon it loads (so do Bun and Deno).
#[no_mangle]
pub unsafe extern "C" fn napi_register_module_v1(env: napi_env, exports: napi_value) -> napi_value {
    let env = Env(env);
    guard(env, || {
        env.set(
            exports,
            env.string("probe")?,
            env.function("probe", probe_callback)?,
        )?;
        env.set(
            exports,
            env.string("version")?,
            env.string(env!("CARGO_PKG_VERSION"))?,
        )?;
        Ok(exports)
    })
}

/// The Node-API version the addon is written against (8: Node 12.22+, every Bun and Deno).
#[no_mangle]
pub extern "C" fn node_api_module_get_api_version_v1() -> i32 {
    8
}

unsafe extern "C" fn probe_callback(env: napi_env, info: napi_callback_info) -> napi_value {
    let env = Env(env);
    guard(env, || {
        let [options] = env.args::<1>(info)?;
        let options = read_options(env, options)?;
        to_js(env, &crate::probe(&options))
    })
}

/// Runs `body`, turning its error or panic into a JavaScript exception.
fn guard(env: Env, body: impl FnOnce() -> JsResult<napi_value>) -> napi_value {
    let throw = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => return value,
        Ok(Err(throw)) => throw,
        Err(panic) => Throw::Error(format!("@bento/native failed: {}", panic_message(&*panic))),
    };
    env.throw(throw);
    ptr::null_mut()
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message")
}

fn read_options(env: Env, options: napi_value) -> JsResult<Options> {
    match env.type_of(options)? {
        ValueType::Undefined | ValueType::Null => return Ok(Options::default()),
        ValueType::Object => {}
        _ => {
            return Err(Throw::TypeError(
                "probe(options): options must be an object".into(),
            ))
        }
    }
    let string = |key: &CStr| {
        option(env, options, key, ValueType::String, "a string", |v| {
            env.get_string(v)
        })
    };
    let nvml_timeout_ms = option(
        env,
        options,
        c"nvmlTimeoutMs",
        ValueType::Number,
        "a number",
        |v| env.get_number(v),
    )?;
    if nvml_timeout_ms.is_some_and(|ms| !(ms.is_finite() && ms >= 0.0)) {
        return Err(Throw::RangeError(
            "probe(options): options.nvmlTimeoutMs must be a finite number >= 0".into(),
        ));
    }
    Ok(Options {
        root: string(c"root")?,
        gpu: option(env, options, c"gpu", ValueType::Boolean, "a boolean", |v| {
            env.get_bool(v)
        })?,
        nvml_library: string(c"nvmlLibrary")?,
        nvml_timeout_ms,
    })
}

/// `options[key]` when it has the `expected` type, `None` when undefined, else a TypeError.
fn option<T>(
    env: Env,
    options: napi_value,
    key: &CStr,
    expected: ValueType,
    described: &str,
    read: impl FnOnce(napi_value) -> JsResult<T>,
) -> JsResult<Option<T>> {
    let value = env.get(options, key)?;
    match env.type_of(value)? {
        ValueType::Undefined => Ok(None),
        found if found == expected => read(value).map(Some),
        _ => Err(Throw::TypeError(format!(
            "probe(options): options.{} must be {described}",
            key.to_string_lossy()
        ))),
    }
}

/// The one place a result becomes JavaScript.
fn to_js(env: Env, value: &Value) -> JsResult<napi_value> {
    match value {
        Value::Null => env.null(),
        Value::Bool(b) => env.boolean(*b),
        Value::Number(n) => env.number(*n),
        Value::String(s) => env.string(s),
        Value::Array(items) => {
            let array = env.array(items.len())?;
            for (index, item) in items.iter().enumerate() {
                env.set_element(array, index as u32, to_js(env, item)?)?;
            }
            Ok(array)
        }
        Value::Object(entries) => {
            let object = env.object()?;
            for (key, item) in entries {
                env.set(object, env.string(key)?, to_js(env, item)?)?;
            }
            Ok(object)
        }
    }
}
