//! How a KV item reaches JavaScript. `index.js` registers a function (`setKvItemFactory`) that
//! makes the item with an object literal, its value with `JSON.parse` and its `Date`s; each item
//! is one call of it. That is about 1.4 µs cheaper per item than setting six properties and two
//! `Date`s one N-API call at a time (a local `kv.get`: 7.2 → 5.85 µs). Without a registered
//! function (the addon loaded without `index.js`) the item is built property by property, with
//! the same value conversion (`JSON.parse` of the value's JSON text).

use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr::null_mut;

use napi::bindgen_prelude::{Function, JsValue, Object, ToNapiValue};
use napi::{Env, Status, sys};
use napi_derive::napi;

use crate::kv::KvItem;

thread_local! {
    /// The registered factory of each Node environment on this thread (usually one: the main
    /// thread and each worker have their own thread; a second load of the addon in one thread
    /// is a second environment).
    static FACTORIES: RefCell<Vec<(sys::napi_env, sys::napi_ref)>> = const { RefCell::new(Vec::new()) };
}

/// The factory registered in `env`, if any.
fn factory_of(env: sys::napi_env) -> Option<sys::napi_ref> {
    FACTORIES.with_borrow(|all| all.iter().find(|(e, _)| *e == env).map(|(_, r)| *r))
}

/// Checks an N-API status. A JavaScript exception left pending by the failed call is cleared
/// (a pending exception would keep the call's Promise from settling) and reported.
fn check(env: sys::napi_env, status: sys::napi_status, what: &str) -> napi::Result<()> {
    if status == sys::Status::napi_ok {
        return Ok(());
    }
    let mut pending = false;
    let mut exception = null_mut();
    unsafe {
        if sys::napi_is_exception_pending(env, &mut pending) == sys::Status::napi_ok && pending {
            sys::napi_get_and_clear_last_exception(env, &mut exception);
        }
    }
    Err(napi::Error::new(
        Status::GenericFailure,
        format!(
            "cannot hand a KV item to JavaScript: {what} failed{}",
            if pending { " (it threw)" } else { "" }
        ),
    ))
}

/// Forgets the factory of the environment `env` when that environment is torn down.
unsafe extern "C" fn forget_factory(env: *mut c_void) {
    FACTORIES.with_borrow_mut(|all| all.retain(|(e, _)| *e as *mut c_void != env));
}

/// Registers the function that makes KV items:
/// `(key, valueJson, version, createdAtMs, updatedAtMs, expiresAtMs | undefined) => item`.
/// Called once by `index.js`, which does not export it; not part of the API.
#[napi(
    ts_args_type = "factory: (key: string, value: string, version: number, createdAt: number, updatedAt: number, expiresAt?: number) => KvItem"
)]
pub fn set_kv_item_factory(env: Env, factory: Function<'_>) -> napi::Result<()> {
    let env = env.raw();
    let mut reference = null_mut();
    unsafe {
        check(
            env,
            sys::napi_create_reference(env, factory.raw(), 1, &mut reference),
            "napi_create_reference",
        )?;
        match factory_of(env) {
            Some(old) => {
                check(
                    env,
                    sys::napi_delete_reference(env, old),
                    "napi_delete_reference",
                )?;
            }
            // One hook per environment (its own `arg`): Node aborts on a (function, arg) pair
            // registered twice.
            None => check(
                env,
                sys::napi_add_env_cleanup_hook(env, Some(forget_factory), env.cast()),
                "napi_add_env_cleanup_hook",
            )?,
        }
    }
    FACTORIES.with_borrow_mut(|all| {
        all.retain(|(e, _)| *e != env);
        all.push((env, reference));
    });
    Ok(())
}

impl ToNapiValue for KvItem {
    unsafe fn to_napi_value(env: sys::napi_env, item: Self) -> napi::Result<sys::napi_value> {
        let value = serde_json::to_string(&item.value.0)
            .map_err(|e| napi::Error::new(Status::GenericFailure, e.to_string()))?;
        let Some(reference) = factory_of(env) else {
            return unsafe { property_by_property(env, item, &value) };
        };
        let mut args = [null_mut(); 6];
        let mut factory = null_mut();
        let mut this = null_mut();
        let mut result = null_mut();
        unsafe {
            check(
                env,
                sys::napi_get_reference_value(env, reference, &mut factory),
                "napi_get_reference_value",
            )?;
            args[0] = String::to_napi_value(env, item.key)?;
            args[1] = String::to_napi_value(env, value)?;
            args[2] = f64::to_napi_value(env, item.version as f64)?;
            args[3] = f64::to_napi_value(env, item.created_at.timestamp_millis() as f64)?;
            args[4] = f64::to_napi_value(env, item.updated_at.timestamp_millis() as f64)?;
            args[5] = match item.expires_at {
                Some(at) => f64::to_napi_value(env, at.timestamp_millis() as f64)?,
                None => <()>::to_napi_value(env, ())?,
            };
            check(
                env,
                sys::napi_get_undefined(env, &mut this),
                "napi_get_undefined",
            )?;
            check(
                env,
                sys::napi_call_function(env, this, factory, args.len(), args.as_ptr(), &mut result),
                "the KV item factory",
            )?;
        }
        Ok(result)
    }
}

/// The item as an object whose properties are set one at a time; `value` is the value's JSON
/// text, given to `JSON.parse` as the factory does.
unsafe fn property_by_property(
    env: sys::napi_env,
    item: KvItem,
    value: &str,
) -> napi::Result<sys::napi_value> {
    let mut object = Object::new(&Env::from_raw(env))?;
    object.set("key", item.key)?;
    unsafe {
        let value = crate::json::parse(env, value)?;
        check(
            env,
            sys::napi_set_named_property(env, object.raw(), c"value".as_ptr(), value),
            "setting value",
        )?;
    }
    object.set("version", item.version)?;
    object.set("createdAt", item.created_at)?;
    object.set("updatedAt", item.updated_at)?;
    if let Some(at) = item.expires_at {
        object.set("expiresAt", at)?;
    }
    Ok(object.raw())
}
