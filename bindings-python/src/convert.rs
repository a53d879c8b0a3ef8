//! JSON values between Python objects and `serde_json::Value`.

use agent_mesh::{Error, ErrorKind};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

use crate::errors::to_py_err;

/// The Python object for a JSON value: dict, list, str, int, float, bool or None.
pub fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => PyFloat::new(py, n.as_f64().unwrap_or(f64::NAN)).into_any(),
        },
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// The JSON value of a Python object, or `InvalidInput` naming `operation`, `key` and the path
/// inside the value that is not JSON.
pub fn from_py(operation: &str, key: &str, obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    convert(obj, &mut String::from("value")).map_err(|(path, why)| {
        to_py_err(Error::keyed(
            ErrorKind::InvalidInput,
            operation,
            key,
            format!("{path} {why}; values must be dict (str keys), list, tuple, str, int, float, bool or None"),
        ))
    })
}

fn convert(obj: &Bound<'_, PyAny>, path: &mut String) -> Result<Value, (String, String)> {
    let fail = |path: &str, why: String| Err((path.to_owned(), why));
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return fail(path, "is an int outside the 64-bit range".into());
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return match Number::from_f64(f.value()) {
            Some(n) => Ok(Value::Number(n)),
            None => fail(path, "is NaN or infinite, which JSON cannot hold".into()),
        };
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return s
            .to_cow()
            .map(|s| Value::String(s.into_owned()))
            .or_else(|e| fail(path, e.to_string()));
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        let mut map = Map::with_capacity(dict.len());
        for (k, v) in dict.iter() {
            let Ok(k) = k.cast::<PyString>().map(|s| s.to_string()) else {
                return fail(
                    path,
                    format!("has a key of type {}, not str", type_name(&k)),
                );
            };
            let len = path.len();
            path.push_str(&format!("[{k:?}]"));
            let value = convert(&v, path)?;
            path.truncate(len);
            map.insert(k, value);
        }
        return Ok(Value::Object(map));
    }
    let items = if let Ok(list) = obj.cast::<PyList>() {
        list.iter().collect::<Vec<_>>()
    } else if let Ok(tuple) = obj.cast::<PyTuple>() {
        tuple.iter().collect()
    } else {
        return fail(
            path,
            format!("has type {}, which is not JSON", type_name(obj)),
        );
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let len = path.len();
        path.push_str(&format!("[{i}]"));
        out.push(convert(item, path)?);
        path.truncate(len);
    }
    Ok(Value::Array(out))
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}
