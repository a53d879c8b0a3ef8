//! JavaScript functions as workflow Task handlers.
//!
//! The engine runs on napi's tokio runtime; a handler is called on the JavaScript thread through
//! a weak (unref'd) threadsafe function, so registering one never keeps Node alive by itself.
//! `(input, context) => result | Promise<result>`: the result (awaited when it is a Promise) is
//! turned into JSON as `JSON.stringify` does (as Lambda's Node runtime does); a throw or a
//! rejection fails the task with `error` = `err.error` if set, else `err.name`, and
//! `cause` = `err.message`, so `Retry` and `Catch` can match custom error classes.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use agent_mesh::unstable::asl::errors::TASK_FAILED;
use agent_mesh::{TaskError, TaskHandler, TaskRequest};
use napi::bindgen_prelude::{
    CallbackContext, FnArgs, FromNapiValue, Function, JsObjectValue, Object, PromiseRaw, Unknown,
};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, JsError, JsValue, Status, ValueType};
use serde_json::Value;
use tokio::sync::oneshot;

use crate::json::Json;

/// The arguments a handler is called with: the task input and the context object.
pub type HandlerArgs = FnArgs<(Json, Json)>;

/// A JavaScript handler as napi receives it.
pub type JsHandlerFn<'f> = Function<'f, HandlerArgs, Unknown<'static>>;

/// The threadsafe function behind a handler: no error-first callback, weak (unref'd).
type JsHandler =
    ThreadsafeFunction<HandlerArgs, Unknown<'static>, HandlerArgs, Status, false, true>;

/// What a handler call ends with.
type Outcome = Result<Value, TaskError>;

/// The sender of a call's outcome, shared by the callbacks that may settle it (first one wins).
type Settle = Rc<RefCell<Option<oneshot::Sender<Outcome>>>>;

/// Wraps the JavaScript function `handler` as a core [`TaskHandler`]. Must run on the
/// JavaScript thread (it creates the threadsafe function).
pub fn task_handler(handler: JsHandlerFn<'_>) -> napi::Result<TaskHandler> {
    let tsfn: Arc<JsHandler> = Arc::new(
        handler
            .build_threadsafe_function()
            .weak::<true>()
            .callee_handled::<false>()
            .build()?,
    );
    Ok(agent_mesh::workflows::handler(
        move |request: TaskRequest| {
            let tsfn = tsfn.clone();
            async move { call(&tsfn, request).await }
        },
    ))
}

/// Calls the handler on the JavaScript thread and waits for its (possibly asynchronous) result.
async fn call(tsfn: &JsHandler, request: TaskRequest) -> Outcome {
    let context = request.context;
    // A value napi cannot convert would be a fatal exception on the JavaScript thread.
    if too_deep(&request.input, MAX_DEPTH) || too_deep(&context, MAX_DEPTH) {
        return Err(TaskError::new(
            TASK_FAILED,
            format!(
                "the task input of '{}' is nested more than {MAX_DEPTH} levels deep, more than a JavaScript handler can be given",
                request.resource
            ),
        ));
    }
    let (sender, receiver) = oneshot::channel();
    let status = tsfn.call_with_return_value(
        FnArgs::from((Json(request.input), Json(context))),
        ThreadsafeFunctionCallMode::NonBlocking,
        move |returned, env| {
            settle(&env, returned, Rc::new(RefCell::new(Some(sender))));
            Ok(())
        },
    );
    if status != Status::Ok {
        return Err(TaskError::new(
            TASK_FAILED,
            format!(
                "the JavaScript handler of '{}' could not be called ({status}): the Node.js environment is shutting down",
                request.resource
            ),
        ));
    }
    receiver.await.unwrap_or_else(|_| {
        Err(TaskError::new(
            TASK_FAILED,
            "the JavaScript handler ended without a result: its Promise was garbage-collected unsettled, or Node.js is exiting",
        ))
    })
}

/// How deeply nested a value passed to a handler may be (napi converts at most 128 levels).
const MAX_DEPTH: usize = 120;

/// Whether `value` nests arrays and objects more than `limit` levels deep.
fn too_deep(value: &Value, limit: usize) -> bool {
    match value {
        Value::Array(items) => limit == 0 || items.iter().any(|v| too_deep(v, limit - 1)),
        Value::Object(fields) => limit == 0 || fields.values().any(|v| too_deep(v, limit - 1)),
        _ => false,
    }
}

/// Sends `outcome` unless the call was settled already.
fn send(settle: &Settle, outcome: Outcome) {
    if let Some(sender) = settle.borrow_mut().take() {
        // The task may have been abandoned meanwhile (timeout, stop): nobody is listening.
        let _ = sender.send(outcome);
    }
}

/// On the JavaScript thread: settles the call with what the handler returned or threw.
fn settle(env: &Env, returned: napi::Result<Unknown<'static>>, settle_with: Settle) {
    let value = match returned {
        Ok(value) => value,
        Err(thrown) => {
            // The exception object itself, as the handler threw it.
            let thrown = JsError::from(thrown).into_unknown(*env);
            return send(&settle_with, Err(task_error(env, thrown)));
        }
    };
    if !is_promise(env, &value) {
        return send(&settle_with, to_json(env, value));
    }
    if let Err(e) = await_promise(value, settle_with.clone()) {
        let cause = format!("awaiting the handler's Promise failed: {e}");
        send(&settle_with, Err(TaskError::new(TASK_FAILED, cause)));
    }
}

/// Whether `value` is a native Promise (what an `async` function returns).
fn is_promise(env: &Env, value: &Unknown<'_>) -> bool {
    let mut result = false;
    // SAFETY: a live value of this environment, on its thread.
    let status = unsafe { napi::sys::napi_is_promise(env.raw(), value.raw(), &mut result) };
    status == napi::sys::Status::napi_ok && result
}

/// Settles the call when the handler's Promise does.
fn await_promise(value: Unknown<'static>, settle_with: Settle) -> napi::Result<()> {
    // SAFETY: `value` was checked to be a Promise.
    let promise: PromiseRaw<'static, Unknown<'static>> = unsafe { value.cast()? };
    let on_rejected = settle_with.clone();
    promise
        .then(move |ctx: CallbackContext<Unknown<'static>>| {
            send(&settle_with, to_json(&ctx.env, ctx.value));
            Ok(())
        })?
        .catch(move |ctx: CallbackContext<Unknown<'static>>| {
            send(&on_rejected, Err(task_error(&ctx.env, ctx.value)));
            Ok(())
        })?;
    Ok(())
}

/// The handler's result as JSON, as `JSON.stringify` sees it (`undefined` is `null`).
fn to_json(env: &Env, value: Unknown<'_>) -> Outcome {
    let stringified = (|| -> napi::Result<Option<String>> {
        let json: Object = env.get_global()?.get_named_property_unchecked("JSON")?;
        let stringify: Function<Unknown, Unknown> =
            json.get_named_property_unchecked("stringify")?;
        let text = stringify.call(value)?;
        match text.get_type()? {
            ValueType::String => Ok(Some(unsafe {
                String::from_napi_value(env.raw(), text.raw())?
            })),
            _ => Ok(None),
        }
    })();
    match stringified {
        Ok(None) => Ok(Value::Null),
        Ok(Some(text)) => serde_json::from_str(&text).map_err(|e| {
            TaskError::new(
                TASK_FAILED,
                format!("the handler's result is not JSON: {e}"),
            )
        }),
        Err(e) => Err(TaskError::new(
            TASK_FAILED,
            format!(
                "the handler's result cannot be converted to JSON: {}",
                e.reason
            ),
        )),
    }
}

/// The task error for a thrown value: `error` from `err.error` or `err.name`, `cause` from
/// `err.message`; a thrown non-object is an `Error` whose cause is its text.
fn task_error(env: &Env, thrown: Unknown<'_>) -> TaskError {
    let kind = thrown.get_type().unwrap_or(ValueType::Unknown);
    if matches!(kind, ValueType::Object | ValueType::Function) {
        // SAFETY: checked to be an object (functions are objects too).
        if let Ok(object) = unsafe { thrown.cast::<Object>() } {
            let error = string_property(env, &object, "error")
                .or_else(|| string_property(env, &object, "name"))
                .unwrap_or_else(|| "Error".to_owned());
            let cause = string_property(env, &object, "message").unwrap_or_default();
            return TaskError::new(error, cause);
        }
    }
    let cause = match kind {
        ValueType::String => {
            unsafe { String::from_napi_value(env.raw(), thrown.raw()) }.unwrap_or_default()
        }
        _ => match to_json(env, thrown) {
            Ok(value) => value.to_string(),
            Err(e) => e.cause,
        },
    };
    TaskError::new("Error", cause)
}

/// A non-empty string property of `object`; a getter that throws counts as absent.
fn string_property(env: &Env, object: &Object<'_>, name: &str) -> Option<String> {
    match object.get::<Unknown>(name) {
        Ok(Some(value)) if value.get_type().ok() == Some(ValueType::String) => {
            unsafe { String::from_napi_value(env.raw(), value.raw()) }
                .ok()
                .filter(|s| !s.is_empty())
        }
        Ok(_) => None,
        Err(_) => {
            clear_exception(env);
            None
        }
    }
}

/// Clears an exception a failed property read left pending.
fn clear_exception(env: &Env) {
    let mut pending = false;
    unsafe {
        if napi::sys::napi_is_exception_pending(env.raw(), &mut pending)
            == napi::sys::Status::napi_ok
            && pending
        {
            let mut exception = std::ptr::null_mut();
            napi::sys::napi_get_and_clear_last_exception(env.raw(), &mut exception);
        }
    }
}
