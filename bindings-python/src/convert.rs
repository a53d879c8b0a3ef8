//! JSON values between Python objects and `serde_json::Value`.

use agent_mesh::unstable::validate;
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
/// inside the value that is not JSON. Nesting deeper than `MAX_VALUE_DEPTH` (also a list or
/// dict that contains itself) and graphs of more than `MAX_VALUE_NODES` nodes (shared lists that
/// expand exponentially) are refused before they are built.
pub fn from_py(operation: &str, key: &str, obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    let mut walk = Walk {
        path: String::from("value"),
        nodes: 0,
    };
    walk.convert(obj, 1).map_err(|(kind, path, why)| {
        let hint = match kind {
            ErrorKind::InvalidInput => {
                "; values must be dict (str keys), list, tuple, str, int, float, bool or None"
            }
            _ => "",
        };
        to_py_err(Error::keyed(
            kind,
            operation,
            key,
            format!("{path} {why}{hint}"),
        ))
    })
}

/// A conversion in progress: where it is, and how many nodes it has built.
struct Walk {
    path: String,
    nodes: usize,
}

type Failure = (ErrorKind, String, String);

impl Walk {
    fn fail<T>(&self, why: String) -> Result<T, Failure> {
        // A path deep inside a value is shortened to its first levels.
        let path = match self.path.char_indices().nth(60) {
            Some((cut, _)) => format!("{}…", &self.path[..cut]),
            None => self.path.clone(),
        };
        Err((ErrorKind::InvalidInput, path, why))
    }

    fn convert(&mut self, obj: &Bound<'_, PyAny>, depth: usize) -> Result<Value, Failure> {
        self.nodes += 1;
        if self.nodes > validate::MAX_VALUE_NODES {
            return Err((
                ErrorKind::TooLarge,
                "value".into(),
                format!(
                    "has more than {} lists, dicts and scalars (counting shared ones each time \
                     they appear); store large data as an artifact",
                    validate::MAX_VALUE_NODES
                ),
            ));
        }
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
            return self.fail("is an int outside the 64-bit range".into());
        }
        if let Ok(f) = obj.cast::<PyFloat>() {
            return match Number::from_f64(f.value()) {
                Some(n) => Ok(Value::Number(n)),
                None => self.fail("is NaN or infinite, which JSON cannot hold".into()),
            };
        }
        if let Ok(s) = obj.cast::<PyString>() {
            return match s.to_cow() {
                Ok(s) => Ok(Value::String(s.into_owned())),
                Err(e) => self.fail(e.to_string()),
            };
        }
        let container = obj.cast::<PyDict>().is_ok()
            || obj.cast::<PyList>().is_ok()
            || obj.cast::<PyTuple>().is_ok();
        if container && depth > validate::MAX_VALUE_DEPTH {
            return self.fail(format!(
                "nests deeper than {} levels of dicts and lists (does it contain itself?); \
                 flatten it",
                validate::MAX_VALUE_DEPTH
            ));
        }
        if let Ok(dict) = obj.cast::<PyDict>() {
            let mut map = Map::with_capacity(dict.len());
            for (k, v) in dict.iter() {
                let Ok(k) = k.cast::<PyString>().map(|s| s.to_string()) else {
                    return self.fail(format!("has a key of type {}, not str", type_name(&k)));
                };
                let len = self.path.len();
                self.path.push_str(&format!("[{k:?}]"));
                let value = self.convert(&v, depth + 1)?;
                self.path.truncate(len);
                map.insert(k, value);
            }
            return Ok(Value::Object(map));
        }
        let items = if let Ok(list) = obj.cast::<PyList>() {
            list.iter().collect::<Vec<_>>()
        } else if let Ok(tuple) = obj.cast::<PyTuple>() {
            tuple.iter().collect()
        } else {
            return self.fail(format!("has type {}, which is not JSON", type_name(obj)));
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let len = self.path.len();
            self.path.push_str(&format!("[{i}]"));
            out.push(self.convert(item, depth + 1)?);
            self.path.truncate(len);
        }
        Ok(Value::Array(out))
    }
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// A non-negative integer argument (a page size, a version): anything else — a negative int,
/// an int past 64 bits, a bool, a float — is `InvalidInput`, never an `OverflowError`.
#[derive(Debug, Clone, Copy)]
pub struct Count(pub u64);

impl<'a, 'py> FromPyObject<'a, 'py> for Count {
    type Error = PyErr;

    fn extract(obj: pyo3::Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let fail = |shown: String| {
            to_py_err(Error::new(
                ErrorKind::InvalidInput,
                format!("expected a non-negative integer (at most 2^64 - 1), got {shown}"),
            ))
        };
        if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
            return Err(fail(type_name(&obj)));
        }
        obj.extract::<u64>()
            .map(Count)
            .map_err(|_| fail(obj.to_string()))
    }
}

impl Count {
    /// As a page size.
    pub fn size(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }
}
