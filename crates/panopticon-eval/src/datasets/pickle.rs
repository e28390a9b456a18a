//! A small pickle reader (binary protocols 2–5) for the attribute dicts GeoBench stores in
//! its HDF5 files, including the numpy arrays (`label` of m-bigearthnet) that burn-store's
//! pickle reader leaves opaque.
//!
//! Nothing is executed: globals stay names, `REDUCE` / `NEWOBJ` / `BUILD` become
//! [`Py::Object`] records, and [`Py::ndarray`] recognises the two shapes numpy gives an
//! array (`_reconstruct` + `BUILD` state for protocols ≤ 4, `_frombuffer` for protocol 5).
//! Values are built in an arena so memoised containers that are filled later
//! (`EMPTY_LIST`, `MEMOIZE`, `APPENDS`) are seen filled wherever they are referenced.

/// A decoded Python value.
#[derive(Debug, Clone, PartialEq)]
pub enum Py {
    /// `None`.
    None,
    /// `bool`.
    Bool(bool),
    /// `int` (within `i64`).
    Int(i64),
    /// `float`.
    Float(f64),
    /// `str`.
    Str(String),
    /// `bytes` or `bytearray`.
    Bytes(Vec<u8>),
    /// `list`, `set` or `frozenset`.
    List(Vec<Py>),
    /// `tuple`.
    Tuple(Vec<Py>),
    /// `dict`, in insertion order.
    Dict(Vec<(Py, Py)>),
    /// A global (class or function) reference.
    Global(String, String),
    /// `callable(*args)`, then `BUILD` with `state` if any.
    Object {
        /// The callable (usually a [`Py::Global`]).
        callable: Box<Py>,
        /// Its arguments (a tuple).
        args: Box<Py>,
        /// The `BUILD` state.
        state: Option<Box<Py>>,
    },
}

#[derive(Debug, Clone)]
enum Node {
    Leaf(Py),
    List(Vec<usize>),
    Tuple(Vec<usize>),
    Dict(Vec<(usize, usize)>),
    Object {
        callable: usize,
        args: usize,
        state: Option<usize>,
    },
}

#[derive(Clone, Copy)]
enum Slot {
    Mark,
    Val(usize),
}

struct Vm<'a> {
    b: &'a [u8],
    pos: usize,
    arena: Vec<Node>,
    stack: Vec<Slot>,
    memo: std::collections::HashMap<u64, usize>,
    /// Bytes the decoded tree may still take ([`tree_budget`]).
    budget: std::cell::Cell<usize>,
}

/// Bytes charged per decoded value besides its payload (a `Py` is 56 bytes; round down so
/// the bound stays conservative for small containers).
const NODE_BYTES: usize = 32;

/// How many bytes the decoded tree of an `n`-byte pickle may take: 16 bytes per input byte
/// plus 4 MiB. Memoised values are copied wherever they are referenced (`BINGET` is 2 bytes),
/// so without a bound on *bytes* a 3 KB pickle referencing one long string 65 000 times
/// decodes to 230 MB; GeoBench's attribute dicts are a few KB and decode far below it.
fn tree_budget(n: usize) -> usize {
    n.saturating_mul(16).saturating_add(4 << 20)
}

pub(super) type R<T> = std::result::Result<T, String>;

impl<'a> Vm<'a> {
    fn take(&mut self, n: usize) -> R<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.b.len());
        let end = end.ok_or_else(|| format!("truncated pickle at byte {}", self.pos))?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn uint(&mut self, n: usize) -> R<u64> {
        let s = self.take(n)?;
        Ok(s.iter().rev().fold(0u64, |a, &x| (a << 8) | x as u64))
    }
    fn len(&mut self, n: usize) -> R<usize> {
        let l = self.uint(n)? as usize;
        if l > self.b.len() {
            return Err(format!("length {l} exceeds the pickle"));
        }
        Ok(l)
    }
    fn line(&mut self) -> R<String> {
        let rest = &self.b[self.pos..];
        let n = rest
            .iter()
            .position(|&c| c == b'\n')
            .ok_or("unterminated GLOBAL line")?;
        let s = String::from_utf8_lossy(&rest[..n]).into_owned();
        self.pos += n + 1;
        Ok(s)
    }
    fn push_node(&mut self, n: Node) {
        self.arena.push(n);
        self.stack.push(Slot::Val(self.arena.len() - 1));
    }
    fn push(&mut self, p: Py) {
        self.push_node(Node::Leaf(p));
    }
    fn pop(&mut self) -> R<usize> {
        match self.stack.pop() {
            Some(Slot::Val(v)) => Ok(v),
            Some(Slot::Mark) => Err("unexpected MARK on the stack".into()),
            None => Err("pickle stack underflow".into()),
        }
    }
    fn top(&self) -> R<usize> {
        match self.stack.last() {
            Some(Slot::Val(v)) => Ok(*v),
            _ => Err("no value on the stack".into()),
        }
    }
    fn pop_mark(&mut self) -> R<Vec<usize>> {
        let m = self
            .stack
            .iter()
            .rposition(|s| matches!(s, Slot::Mark))
            .ok_or("no MARK on the stack")?;
        let items = self.stack.split_off(m + 1);
        self.stack.pop();
        Ok(items
            .into_iter()
            .map(|s| match s {
                Slot::Val(v) => v,
                Slot::Mark => unreachable!("marks stop the search"),
            })
            .collect())
    }
    fn str_of(&self, id: usize) -> R<String> {
        match &self.arena[id] {
            Node::Leaf(Py::Str(s)) => Ok(s.clone()),
            _ => Err("STACK_GLOBAL expects two strings".into()),
        }
    }
    fn utf8(&mut self, n: usize) -> R<()> {
        let s = self.take(n)?;
        let s = std::str::from_utf8(s).map_err(|_| "invalid UTF-8 in a pickled str")?;
        self.push(Py::Str(s.to_string()));
        Ok(())
    }
    fn bytes(&mut self, n: usize) -> R<()> {
        let s = self.take(n)?.to_vec();
        self.push(Py::Bytes(s));
        Ok(())
    }
    fn tuple(&mut self, n: usize) -> R<()> {
        if self.stack.len() < n {
            return Err("pickle stack underflow".into());
        }
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(self.pop()?);
        }
        items.reverse();
        self.push_node(Node::Tuple(items));
        Ok(())
    }
    fn extend(&mut self, target: usize, items: Vec<usize>) -> R<()> {
        match &mut self.arena[target] {
            Node::List(v) => v.extend(items),
            _ => return Err("APPEND(S) / ADDITEMS on a non-list".into()),
        }
        Ok(())
    }
    fn set_items(&mut self, target: usize, items: Vec<usize>) -> R<()> {
        if !items.len().is_multiple_of(2) {
            return Err("SETITEMS with an odd number of items".into());
        }
        match &mut self.arena[target] {
            Node::Dict(d) => d.extend(items.chunks(2).map(|c| (c[0], c[1]))),
            _ => return Err("SETITEM(S) on a non-dict".into()),
        }
        Ok(())
    }
    fn object(&mut self, callable: usize, args: usize) {
        self.push_node(Node::Object {
            callable,
            args,
            state: None,
        });
    }

    fn run(&mut self) -> R<usize> {
        loop {
            let op = self.take(1)?[0];
            match op {
                0x80 => {
                    let v = self.uint(1)?;
                    if !(2..=5).contains(&v) {
                        return Err(format!("pickle protocol {v} is not supported (2..5)"));
                    }
                }
                0x95 => {
                    self.uint(8)?;
                }
                b'.' => return self.pop(),
                b'(' => self.stack.push(Slot::Mark),
                b'0' => {
                    self.stack.pop().ok_or("POP on an empty stack")?;
                }
                b'1' => {
                    self.pop_mark()?;
                }
                b'2' => {
                    let t = self.top()?;
                    self.stack.push(Slot::Val(t));
                }
                b'N' => self.push(Py::None),
                0x88 => self.push(Py::Bool(true)),
                0x89 => self.push(Py::Bool(false)),
                b'K' => {
                    let v = self.uint(1)? as i64;
                    self.push(Py::Int(v));
                }
                b'M' => {
                    let v = self.uint(2)? as i64;
                    self.push(Py::Int(v));
                }
                b'J' => {
                    let v = self.uint(4)? as u32 as i32 as i64;
                    self.push(Py::Int(v));
                }
                0x8a => {
                    let n = self.len(1)?;
                    let s = self.take(n)?;
                    if n > 8 {
                        return Err("an int wider than 64 bits".into());
                    }
                    let mut v: i64 = s.iter().rev().fold(0i64, |a, &x| (a << 8) | x as i64);
                    if n > 0 && n < 8 && s[n - 1] & 0x80 != 0 {
                        v -= 1i64 << (8 * n);
                    }
                    self.push(Py::Int(v));
                }
                b'G' => {
                    let s = self.take(8)?;
                    let v = f64::from_be_bytes(s.try_into().expect("8 bytes"));
                    self.push(Py::Float(v));
                }
                0x8c => {
                    let n = self.len(1)?;
                    self.utf8(n)?;
                }
                b'X' => {
                    let n = self.len(4)?;
                    self.utf8(n)?;
                }
                0x8d => {
                    let n = self.len(8)?;
                    self.utf8(n)?;
                }
                b'C' => {
                    let n = self.len(1)?;
                    self.bytes(n)?;
                }
                b'B' => {
                    let n = self.len(4)?;
                    self.bytes(n)?;
                }
                0x8e | 0x96 => {
                    let n = self.len(8)?;
                    self.bytes(n)?;
                }
                b'}' => self.push_node(Node::Dict(Vec::new())),
                b']' | 0x8f => self.push_node(Node::List(Vec::new())),
                b')' => self.push_node(Node::Tuple(Vec::new())),
                b't' => {
                    let items = self.pop_mark()?;
                    self.push_node(Node::Tuple(items));
                }
                0x85 => self.tuple(1)?,
                0x86 => self.tuple(2)?,
                0x87 => self.tuple(3)?,
                b'l' | 0x91 => {
                    let items = self.pop_mark()?;
                    self.push_node(Node::List(items));
                }
                b'd' => {
                    let items = self.pop_mark()?;
                    self.push_node(Node::Dict(Vec::new()));
                    let t = self.top()?;
                    self.set_items(t, items)?;
                }
                b'a' => {
                    let v = self.pop()?;
                    let t = self.top()?;
                    self.extend(t, vec![v])?;
                }
                b'e' | 0x90 => {
                    let items = self.pop_mark()?;
                    let t = self.top()?;
                    self.extend(t, items)?;
                }
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    let t = self.top()?;
                    self.set_items(t, vec![k, v])?;
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    let t = self.top()?;
                    self.set_items(t, items)?;
                }
                0x94 => {
                    let t = self.top()?;
                    let k = self.memo.len() as u64;
                    self.memo.insert(k, t);
                }
                b'q' | b'r' => {
                    let k = self.uint(if op == b'q' { 1 } else { 4 })?;
                    let t = self.top()?;
                    self.memo.insert(k, t);
                }
                b'h' | b'j' => {
                    let k = self.uint(if op == b'h' { 1 } else { 4 })?;
                    let v = *self
                        .memo
                        .get(&k)
                        .ok_or_else(|| format!("memo key {k} not found"))?;
                    self.stack.push(Slot::Val(v));
                }
                b'c' => {
                    let (m, n) = (self.line()?, self.line()?);
                    self.push(Py::Global(m, n));
                }
                0x93 => {
                    let n = self.pop()?;
                    let m = self.pop()?;
                    let (m, n) = (self.str_of(m)?, self.str_of(n)?);
                    self.push(Py::Global(m, n));
                }
                b'R' | 0x81 => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    self.object(callable, args);
                }
                0x92 => {
                    let _kwargs = self.pop()?;
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    self.object(callable, args);
                }
                b'b' => {
                    let s = self.pop()?;
                    let t = self.top()?;
                    match &mut self.arena[t] {
                        Node::Object { state, .. } => *state = Some(s),
                        _ => return Err("BUILD on a value that is not an object".into()),
                    }
                }
                other => {
                    return Err(format!(
                        "pickle opcode 0x{other:02x} at byte {} is not supported",
                        self.pos - 1
                    ));
                }
            }
        }
    }

    fn tree(&self, id: usize, depth: usize) -> R<Py> {
        if depth > 64 {
            return Err("pickled value nested deeper than 64 levels (or recursive)".into());
        }
        // Shared (memoised) values are copied into the tree; bound the bytes so a small
        // pickle of shared references cannot expand without limit.
        let payload = match &self.arena[id] {
            Node::Leaf(Py::Str(s)) => s.len(),
            Node::Leaf(Py::Bytes(b)) => b.len(),
            Node::Leaf(Py::Global(m, n)) => m.len() + n.len(),
            _ => 0,
        };
        let left = self
            .budget
            .get()
            .checked_sub(NODE_BYTES + payload)
            .ok_or_else(|| {
                format!(
                    "pickled value expands beyond {} bytes ({}× its {} bytes) through shared \
                     references",
                    tree_budget(self.b.len()),
                    tree_budget(self.b.len()) / self.b.len().max(1),
                    self.b.len()
                )
            })?;
        self.budget.set(left);
        let many = |ids: &[usize]| -> R<Vec<Py>> {
            ids.iter().map(|&i| self.tree(i, depth + 1)).collect()
        };
        Ok(match &self.arena[id] {
            Node::Leaf(p) => p.clone(),
            Node::List(v) => Py::List(many(v)?),
            Node::Tuple(v) => Py::Tuple(many(v)?),
            Node::Dict(d) => Py::Dict(
                d.iter()
                    .map(|&(k, v)| Ok((self.tree(k, depth + 1)?, self.tree(v, depth + 1)?)))
                    .collect::<R<_>>()?,
            ),
            Node::Object {
                callable,
                args,
                state,
            } => {
                let (callable, args) = (
                    self.tree(*callable, depth + 1)?,
                    self.tree(*args, depth + 1)?,
                );
                match (&callable, &args) {
                    // Protocol 2 has no bytes opcode: bytes are `_codecs.encode(s, "latin1")`
                    // (and `b""` is `bytes()`).
                    (Py::Global(m, n), Py::Tuple(a)) if m == "_codecs" && n == "encode" => {
                        match &a[..] {
                            [Py::Str(s), Py::Str(enc)] if enc == "latin1" || enc == "latin-1" => {
                                let b: std::result::Result<Vec<u8>, _> =
                                    s.chars().map(|c| u8::try_from(c as u32)).collect();
                                return b.map(Py::Bytes).map_err(|_| {
                                    "a latin1-encoded bytes value holds a non-latin1 char".into()
                                });
                            }
                            _ => {}
                        }
                    }
                    (Py::Global(m, n), Py::Tuple(a))
                        if (m == "builtins" || m == "__builtin__")
                            && n == "bytes"
                            && a.is_empty() =>
                    {
                        return Ok(Py::Bytes(Vec::new()));
                    }
                    _ => {}
                }
                Py::Object {
                    callable: Box::new(callable),
                    args: Box::new(args),
                    state: state
                        .map(|s| self.tree(s, depth + 1).map(Box::new))
                        .transpose()?,
                }
            }
        })
    }
}

/// `pickle.loads(bytes)` for the protocol 2–5 opcodes plain data, globals and reduce calls
/// use.
pub fn loads(bytes: &[u8]) -> std::result::Result<Py, String> {
    let mut vm = Vm {
        b: bytes,
        pos: 0,
        arena: Vec::new(),
        stack: Vec::new(),
        memo: Default::default(),
        budget: std::cell::Cell::new(tree_budget(bytes.len())),
    };
    let root = vm.run()?;
    vm.tree(root, 0)
}

impl Py {
    /// The value of `key` in a dict.
    pub fn get(&self, key: &str) -> Option<&Py> {
        match self {
            Py::Dict(d) => d
                .iter()
                .find(|(k, _)| matches!(k, Py::Str(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Protocol 4: one 3000-byte string, memoised, referenced `refs` times in a list.
    fn fan_out(refs: usize) -> Vec<u8> {
        let mut b = vec![0x80, 4, b'X'];
        b.extend(3000u32.to_le_bytes());
        b.extend(std::iter::repeat_n(b'a', 3000));
        b.extend([0x94, b'(']);
        for _ in 0..refs {
            b.extend([b'h', 0]);
        }
        b.extend([b'l', b'.']);
        b
    }

    #[test]
    fn memoised_fan_out_is_bounded_by_bytes() {
        // 100 copies (300 KB from 3.2 KB) are fine ...
        let Py::List(v) = loads(&fan_out(100)).unwrap() else {
            panic!("a list")
        };
        assert_eq!(v.len(), 100);
        // ... 20 000 (60 MB from 43 KB: 1400×) are not.
        let e = loads(&fan_out(20_000)).unwrap_err();
        assert!(e.contains("expands beyond"), "{e}");
    }
}
