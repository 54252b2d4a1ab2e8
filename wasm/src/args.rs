//! Checked reads of JS arguments and properties. wasm-bindgen does not check
//! the types of imported JS values, so every value from JS is checked here
//! and a wrong type becomes a typed error instead of garbage or a trap.
//!
//! Nothing here lets a JS exception unwind through wasm: every import that
//! can run caller code (getters, Proxy traps) is declared with `catch`. An
//! uncaught throw would leave Rust borrows held (a later `free()` then
//! throws) and half-built values in memory.

use std::cell::OnceCell;

use fieldseal::Error;
use js_sys::{Function, JsString, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use zeroize::Zeroizing;

pub type Result<T> = fieldseal::Result<T>;

pub fn config_error(what: String) -> Error {
    Error::InvalidConfig(what)
}

pub fn string(value: &JsValue, what: &str) -> Result<String> {
    value
        .as_string()
        .ok_or_else(|| config_error(format!("{what} must be a string")))
}

pub fn optional_string(value: &JsValue, what: &str) -> Result<Option<String>> {
    if value.is_undefined() || value.is_null() {
        Ok(None)
    } else {
        string(value, what).map(Some)
    }
}

/// A copy of a `Uint8Array` holding key material; wiped when dropped.
pub fn key_bytes(value: &JsValue, what: &str) -> Result<Zeroizing<Vec<u8>>> {
    bytes(value)
        .map(Zeroizing::new)
        .map_err(|why| Error::InvalidKey(format!("{what} must be a Uint8Array ({why})")))
}

/// A plain JS object (not null, not an array).
pub fn object<'a>(value: &'a JsValue, what: &str) -> Result<&'a Object> {
    if value.is_object() && is_array(value) == Ok(false) {
        Ok(value.unchecked_ref::<Object>())
    } else {
        Err(config_error(format!("{what} must be an object")))
    }
}

/// `object[key]`; reading a property of an object cannot fail except through
/// a throwing getter, which is reported as a config error.
pub fn property(object: &Object, key: &str) -> Result<JsValue> {
    Reflect::get(object, &JsValue::from_str(key))
        .map_err(|_| config_error(format!("reading {key:?} threw")))
}

/// The config object's own keys, in insertion order.
pub fn config_keys(object: &Object, what: &str) -> Result<Vec<String>> {
    let bad = |why| config_error(format!("{what}: {why}"));
    own_keys(object)
        .map_err(bad)?
        .iter()
        .map(|k| key_string(k).map_err(bad))
        .collect()
}

/// An array of strings; `undefined`/`null` is an empty list.
pub fn string_list(value: &JsValue, what: &str) -> Result<Vec<String>> {
    if value.is_undefined() || value.is_null() {
        return Ok(Vec::new());
    }
    let bad = |why: &str| config_error(format!("{what} must be an array of strings ({why})"));
    let list = List::of(value)
        .map_err(bad)?
        .ok_or_else(|| bad("not an array"))?;
    list.items()
        .map(|v| string(&v.map_err(bad)?, what))
        .collect()
}

pub fn function(value: JsValue, what: &str) -> Result<js_sys::Function> {
    value
        .dyn_into::<js_sys::Function>()
        .map_err(|_| config_error(format!("{what} must be a function")))
}

/// An options object read as a struct: the one way a config crosses the
/// boundary. Each key is read exactly once, through a checked access (a
/// throwing getter or Proxy trap is a config error); a Symbol key, or a key
/// not in `known`, is refused. Accessors then only look at the values read,
/// so a getter cannot answer differently on a second read. Adding a config
/// object means listing its keys and calling one accessor per field.
pub struct Fields {
    /// Where this object sits, e.g. `"discoveryFilter."`; prefixed to names in errors.
    path: String,
    values: Vec<(&'static str, JsValue)>,
}

// The accessors are `#[inline(never)]`: they run only while a config is read,
// and inlined into every field of every config reader (wasm-release builds
// this crate at opt-level 3) they cost 7 KB of wasm.
impl Fields {
    /// Read `value`, an object with only the `known` keys (`what` names it in errors).
    #[inline(never)]
    pub fn read(value: &JsValue, what: &str, known: &[&'static str]) -> Result<Fields> {
        Fields::read_at(value, what, String::new(), known)
    }

    /// An object inside a config, named in errors by its path (e.g.
    /// `search.versions[0].standardBeacons[1]`), its keys by `path.key`.
    #[inline(never)]
    pub fn read_path(value: &JsValue, path: &str, known: &[&'static str]) -> Result<Fields> {
        Fields::read_at(value, path, format!("{path}."), known)
    }

    #[inline(never)]
    fn read_at(
        value: &JsValue,
        what: &str,
        path: String,
        known: &[&'static str],
    ) -> Result<Fields> {
        let object = object(value, what)?;
        for key in config_keys(object, what)? {
            if !known.contains(&key.as_str()) {
                return Err(config_error(format!(
                    "unknown key {key:?} in {what} (expected one of {})",
                    known.join(", ")
                )));
            }
        }
        let values = known
            .iter()
            .map(|&key| Ok((key, property(object, key)?)))
            .collect::<Result<_>>()?;
        Ok(Fields { path, values })
    }

    /// The value of `key` as read (`undefined` when absent).
    #[inline(never)]
    pub fn value(&self, key: &str) -> JsValue {
        self.values
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or(JsValue::UNDEFINED)
    }

    /// Absent means `undefined` or `null`.
    #[inline(never)]
    pub fn has(&self, key: &str) -> bool {
        let v = self.value(key);
        !(v.is_undefined() || v.is_null())
    }

    #[inline(never)]
    fn name(&self, key: &str) -> String {
        format!("{}{key}", self.path)
    }

    #[inline(never)]
    pub fn string(&self, key: &str) -> Result<String> {
        string(&self.value(key), &self.name(key))
    }

    #[inline(never)]
    pub fn optional_string(&self, key: &str) -> Result<Option<String>> {
        optional_string(&self.value(key), &self.name(key))
    }

    /// An array of strings; absent is an empty list.
    #[inline(never)]
    pub fn string_list(&self, key: &str) -> Result<Vec<String>> {
        string_list(&self.value(key), &self.name(key))
    }

    /// Key material (`INVALID_KEY` if not a genuine Uint8Array); wiped when dropped.
    #[inline(never)]
    pub fn key_bytes(&self, key: &str) -> Result<Zeroizing<Vec<u8>>> {
        key_bytes(&self.value(key), &self.name(key))
    }

    #[inline(never)]
    pub fn function(&self, key: &str) -> Result<Function> {
        function(self.value(key), &self.name(key))
    }

    /// An enum given by name, parsed by the core (the one place its names live).
    #[inline(never)]
    pub fn named<T>(&self, key: &str, parse: impl FnOnce(&str) -> Result<T>) -> Result<T> {
        parse(&self.string(key)?)
    }

    /// A nested options object with its own `known` keys; `None` when absent.
    #[inline(never)]
    pub fn nested(&self, key: &str, known: &[&'static str]) -> Result<Option<Fields>> {
        if !self.has(key) {
            return Ok(None);
        }
        let name = self.name(key);
        Fields::read_at(&self.value(key), &name, format!("{name}."), known).map(Some)
    }

    /// The name of `key` in errors: the object's path and the key.
    #[inline(never)]
    pub fn path(&self, key: &str) -> String {
        self.name(key)
    }

    /// An array, each element with its path (`key[i]`); absent is empty.
    #[inline(never)]
    pub fn list(&self, key: &str) -> Result<Vec<(String, JsValue)>> {
        let name = self.name(key);
        let value = self.value(key);
        if value.is_undefined() || value.is_null() {
            return Ok(Vec::new());
        }
        let bad = |why: &str| config_error(format!("{name} must be an array ({why})"));
        let list = List::of(&value)
            .map_err(bad)?
            .ok_or_else(|| bad("not an array"))?;
        list.items()
            .enumerate()
            .map(|(i, v)| Ok((format!("{name}[{i}]"), v.map_err(bad)?)))
            .collect()
    }

    /// A whole number from 0 to 2^32 - 1.
    #[inline(never)]
    pub fn u32(&self, key: &str) -> Result<u32> {
        match self.value(key).as_f64() {
            Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX) => Ok(n as u32),
            _ => Err(config_error(format!(
                "{} must be a whole number from 0 to 4294967295",
                self.name(key)
            ))),
        }
    }

    #[inline(never)]
    pub fn optional_u32(&self, key: &str) -> Result<Option<u32>> {
        match self.has(key) {
            true => self.u32(key).map(Some),
            false => Ok(None),
        }
    }

    /// A whole number from -2^31 to 2^31 - 1.
    #[inline(never)]
    pub fn i32(&self, key: &str) -> Result<i32> {
        match self.value(key).as_f64() {
            Some(n)
                if n.fract() == 0.0 && (f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&n) =>
            {
                Ok(n as i32)
            }
            _ => Err(config_error(format!(
                "{} must be a whole number from -2147483648 to 2147483647",
                self.name(key)
            ))),
        }
    }

    #[inline(never)]
    pub fn bool(&self, key: &str) -> Result<bool> {
        self.value(key)
            .as_bool()
            .ok_or_else(|| config_error(format!("{} must be true or false", self.name(key))))
    }

    /// A union given as an object with exactly one of the `known` keys (the
    /// DB-ESDK's unions, e.g. `{ single: {...} }`): that key and its value.
    #[inline(never)]
    pub fn one_of(
        value: &JsValue,
        path: &str,
        known: &[&'static str],
    ) -> Result<(&'static str, JsValue)> {
        let o = Fields::read_path(value, path, known)?;
        let mut given = known.iter().filter(|k| o.has(k));
        match (given.next(), given.next()) {
            (Some(&key), None) => Ok((key, o.value(key))),
            _ => Err(config_error(format!(
                "{path} must have exactly one of {}",
                known.join(", ")
            ))),
        }
    }

    /// An object used as a map (e.g. attribute name to action): its own
    /// string keys in insertion order, each value read once.
    #[inline(never)]
    pub fn entries(&self, key: &str) -> Result<Vec<(String, JsValue)>> {
        let name = self.name(key);
        let value = self.value(key);
        let map = object(&value, &name)?;
        config_keys(map, &name)?
            .into_iter()
            .map(|k| Ok((k.clone(), property(map, &k)?)))
            .collect()
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    fn is_array_checked(value: &JsValue) -> std::result::Result<bool, JsValue>;

    /// `Uint8Array.prototype.set.call(view of dst, src)`: for a genuine typed
    /// array `src` this reads its internal length and bytes, never `length`.
    #[wasm_bindgen(catch, js_namespace = Uint8Array, js_name = "prototype.set.call")]
    fn copy_into(dst: &mut [u8], src: &JsValue) -> std::result::Result<(), JsValue>;
}

/// Why a JS value could not be read; wrapped by callers into their error kind.
pub type Refusal = &'static str;

const THREW: Refusal = "a getter or Proxy trap threw";

/// `Array.isArray`, which throws for a revoked Proxy.
pub fn is_array(value: &JsValue) -> std::result::Result<bool, Refusal> {
    is_array_checked(value).map_err(|_| "a revoked Proxy")
}

/// `object[key]`, with a throwing getter or trap as a refusal.
pub fn get(object: &JsValue, key: &JsValue) -> std::result::Result<JsValue, Refusal> {
    Reflect::get(object, key).map_err(|_| THREW)
}

/// The object's own keys (`Reflect.ownKeys`, insertion order): strings, or
/// symbols, which callers refuse (see [`key_string`]) rather than skip:
/// skipping one would silently drop the value under it.
pub fn own_keys(object: &JsValue) -> std::result::Result<Vec<JsValue>, Refusal> {
    // Reflect.ownKeys returns a fresh, genuine array of strings and symbols.
    Ok(Reflect::own_keys(object)
        .map_err(|_| THREW)?
        .iter()
        .collect())
}

/// A key from [`own_keys`] as a Rust string; a Symbol is refused.
pub fn key_string(key: &JsValue) -> std::result::Result<String, Refusal> {
    key.as_string().ok_or(SYMBOL_KEY)
}

const SYMBOL_KEY: Refusal = "a Symbol key (names must be strings)";

/// A key's length in UTF-16 code units, read before the key is copied out of
/// JS; a Symbol is refused.
pub fn key_units(key: &JsValue) -> std::result::Result<usize, Refusal> {
    key.dyn_ref::<JsString>()
        .map(|k| k.length() as usize)
        .ok_or(SYMBOL_KEY)
}

/// A JS array read through checked accesses: a Proxy, an element getter or
/// a huge sparse array cannot throw through wasm or allocate up front.
pub struct List<'a> {
    array: &'a JsValue,
    len: u32,
}

impl<'a> List<'a> {
    /// `None` if `value` is not an array.
    pub fn of(value: &'a JsValue) -> std::result::Result<Option<List<'a>>, Refusal> {
        if !value.is_object() || !is_array(value)? {
            return Ok(None);
        }
        let len = LENGTH
            .with(|key| get(value, key))?
            .as_f64()
            .filter(|n| (0.0..=f64::from(u32::MAX)).contains(n))
            .ok_or("an array without a valid length")?;
        Ok(Some(List {
            array: value,
            len: len as u32,
        }))
    }

    /// The elements in order; holes read as `undefined`.
    pub fn items(&self) -> impl Iterator<Item = std::result::Result<JsValue, Refusal>> + '_ {
        (0..self.len).map(|i| Reflect::get_u32(self.array, i).map_err(|_| THREW))
    }
}

/// `%TypedArray%.prototype`'s own getters, captured once: a subclass or an
/// own property cannot override them.
struct Intrinsics {
    byte_length: Function,
    to_string_tag: Function,
    fill: Function,
    uint8_array: JsValue,
}

thread_local! {
    static LENGTH: JsValue = JsValue::from_str("length");
    static INTRINSICS: OnceCell<Option<Intrinsics>> = const { OnceCell::new() };
}

fn intrinsics<T>(f: impl FnOnce(&Intrinsics) -> T) -> Option<T> {
    INTRINSICS.with(|cell| {
        cell.get_or_init(|| {
            let typed_array = Object::get_prototype_of(&Object::get_prototype_of(
                &Uint8Array::new_with_length(0),
            ));
            let getter = |key: &JsValue| {
                let descriptor = Object::get_own_property_descriptor(&typed_array, key);
                Reflect::get(&descriptor, &JsValue::from_str("get"))
                    .ok()?
                    .dyn_into::<Function>()
                    .ok()
            };
            Some(Intrinsics {
                byte_length: getter(&JsValue::from_str("byteLength"))?,
                to_string_tag: getter(&js_sys::Symbol::to_string_tag())?,
                fill: Reflect::get(&typed_array, &JsValue::from_str("fill"))
                    .ok()?
                    .dyn_into::<Function>()
                    .ok()?,
                uint8_array: JsValue::from_str("Uint8Array"),
            })
        })
        .as_ref()
        .map(f)
    })
}

/// A copy of the bytes of a genuine `Uint8Array` (or subclass, e.g. Node's
/// `Buffer`), through its internal length. Never reads `length`, which a
/// subclass or an own property can make lie (js-sys `to_vec` trusts it and
/// copied uninitialised wasm heap into items). Every byte of the result comes
/// from the caller's array, or the value is refused: anything that is not a
/// Uint8Array (a Proxy, another typed array, an array-like), or a view of a
/// detached buffer. This is the only way bytes cross from JS into wasm.
pub fn bytes(value: &JsValue) -> std::result::Result<Vec<u8>, Refusal> {
    const NOT_BYTES: Refusal = "not a Uint8Array";
    if !value.is_object() {
        return Err(NOT_BYTES);
    }
    let len = intrinsics(|i| {
        // The tag getter returns undefined, never throws, for non-typed-arrays.
        let tag = i.to_string_tag.call0(value).ok()?;
        if tag != i.uint8_array {
            return None;
        }
        i.byte_length.call0(value).ok()?.as_f64()
    })
    .flatten()
    .ok_or(NOT_BYTES)?;
    // Zeroed, so even a failed copy leaves no stale heap in the vector.
    let mut out = vec![0u8; len as usize];
    // A detached buffer reports 0 bytes and makes `set` throw.
    copy_into(&mut out, value).map_err(|_| "a view of a detached ArrayBuffer")?;
    Ok(out)
}

/// Zero a caller's `Uint8Array` (e.g. a plaintext key a KMS client returned),
/// through the intrinsic `fill`. Best effort: a value that is not a genuine
/// typed array is left alone.
pub fn wipe(value: &JsValue) {
    let _ = intrinsics(|i| i.fill.call1(value, &JsValue::from(0)));
}

/// Await a value a caller's callback returned, as a promise. Wrapped in a
/// fresh promise: `Promise.resolve` would throw for a promise whose
/// `constructor` getter throws, and awaiting the value itself would call its
/// own `then`; here any of that becomes a rejection.
pub async fn settle(value: &JsValue) -> std::result::Result<JsValue, JsValue> {
    let promise = Promise::new(&mut |resolve, _reject| {
        // The resolve function reads `then` itself and rejects if it throws.
        let _ = resolve.call1(&JsValue::UNDEFINED, value);
    });
    JsFuture::from(promise).await
}

/// Define `object[key] = value` as an own data property. Plain assignment
/// would run `Object.prototype.__proto__`'s setter for the key `__proto__`,
/// replacing the object's prototype instead of adding an attribute.
pub fn define(object: &Object, key: &str, value: &JsValue) {
    if key == "__proto__" {
        let descriptor = Object::new();
        for flag in ["writable", "enumerable", "configurable"] {
            let _ = Reflect::set(&descriptor, &JsValue::from_str(flag), &JsValue::TRUE);
        }
        let _ = Reflect::set(&descriptor, &JsValue::from_str("value"), value);
        let _ = Reflect::define_property(object, &JsValue::from_str(key), &descriptor);
    } else {
        // A fresh plain object has no other setter in its prototype chain.
        let _ = Reflect::set(object, &JsValue::from_str(key), value);
    }
}
