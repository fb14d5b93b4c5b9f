//! The AWS shared files (`~/.aws/credentials`, `~/.aws/config`) read as
//! botocore reads them: the one reader behind the profile chain
//! ([`crate::aws`]) and `open --write-profile` ([`crate::documents::credentials_file`]).
//!
//! botocore's `raw_config_parse` is Python's `configparser.RawConfigParser`
//! with its defaults, and so are these rules:
//!
//! - lines end at LF, CR or CRLF (Python's universal newlines);
//! - a line whose text starts with `#` or `;` (after blanks) is a comment,
//!   wherever it is. There are no inline comments: `key = v ; x` has the
//!   value `v ; x`, and `[work] # note` opens section `work`, because a
//!   header's name runs from the first `[` to the last `]`;
//! - a section's name is not trimmed: `[ work ]` is ` work `, another
//!   section than `work`;
//! - `key = value` or `key: value` splits at the first `=` or `:`; the key is
//!   lower-cased, both are trimmed, and an empty value is a value;
//! - a line indented deeper than the key line before it continues that
//!   value, even one that looks like a header or a key; blank lines inside a
//!   value are kept, trailing ones dropped. A value that starts with a line
//!   break is a nested block (the config file's `s3 =` followed by indented
//!   `key = value` lines);
//! - `[DEFAULT]` holds keys every other section inherits.
//!
//! Where botocore refuses the whole file, [`parse`] refuses it too, naming
//! the line: text before the first header (a UTF-8 byte order mark
//! included), a line that is neither a header nor `key = value`, an empty
//! key, a section given twice, a key given twice in one section, a line of a
//! nested block without `=`.
//!
//! In the config file a profile is `[default]` or `[profile NAME]`, the
//! words split as Python's `shlex.split` splits them
//! ([`config_profile_name`]); in the credentials file a profile is a section
//! of exactly its name.

use std::collections::HashSet;
use std::fmt;

use zeroize::Zeroizing;

/// A parsed INI text: its sections in order, and what each line is.
pub struct Ini {
    sections: Vec<Section>,
    lines: Vec<Line>,
}

/// One section: its name, the line of its header, and its keys (its own
/// first, then those it inherits from `[DEFAULT]`).
pub struct Section {
    name: String,
    header: usize,
    pairs: Vec<(String, Value)>,
    /// `[DEFAULT]`'s keys, shared by every section (not copied into each:
    /// a file of many sections and many defaults stays small).
    defaults: std::sync::Arc<Vec<(String, Value)>>,
}

/// A value: text, or a nested block of `key = value` lines.
pub enum Value {
    /// A value of one or more lines (joined with `\n`).
    Text(Zeroizing<String>),
    /// A nested block: its keys (as written, not lower-cased) and values, a
    /// later key replacing an earlier one of the same name.
    Nested(Vec<(String, Zeroizing<String>)>),
}

/// What a line of the text is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    /// Empty or only blanks.
    Blank,
    /// A `#` or `;` comment.
    Comment,
    /// A section header.
    Header,
    /// A `key = value` line.
    Key,
    /// A line that continues the value before it.
    Continuation,
}

/// A line: where it is in the text (its end included) and what it is.
#[derive(Clone, Copy, Debug)]
pub struct Line {
    /// The byte offset of its first character.
    pub start: usize,
    /// The byte offset after its line break (or the end of the text).
    pub end: usize,
    /// The byte offset of its line break (`end` when it has none).
    pub text_end: usize,
    /// What it is.
    pub kind: LineKind,
    /// How many blank characters it starts with.
    pub indent: usize,
}

/// Why a text was refused, and on which line (counting from 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IniError {
    /// The line, counting from 1.
    pub line: usize,
    /// What is wrong with it.
    pub why: String,
}

impl fmt::Display for IniError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.why)
    }
}

impl std::error::Error for IniError {}

/// A text of the file at `path` that botocore refuses, named with its line.
pub(crate) fn refused(path: &std::path::Path, e: &IniError) -> crate::Error {
    crate::Error::new(
        crate::ErrorKind::Document { line: Some(e.line) },
        format!(
            "{} {e} (the AWS CLI and SDKs refuse this file too)",
            path.display()
        ),
    )
}

impl Ini {
    /// The sections, in the order of the text (`[DEFAULT]` is not one).
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// The section named exactly `name` (a credentials-file profile).
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The config-file profile `name`: `[default]` or `[profile NAME]`; when
    /// two sections name it, the later, as botocore takes it.
    pub fn config_profile(&self, name: &str) -> Option<&Section> {
        self.sections
            .iter()
            .rev()
            .find(|s| config_profile_name(&s.name).as_deref() == Some(name))
    }

    /// Every line of the text, in order.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// [`Ini::section`], taken out.
    pub fn into_section(mut self, name: &str) -> Option<Section> {
        let i = self.sections.iter().position(|s| s.name == name)?;
        Some(self.sections.swap_remove(i))
    }

    /// [`Ini::config_profile`], taken out.
    pub fn into_config_profile(mut self, name: &str) -> Option<Section> {
        let i = self
            .sections
            .iter()
            .rposition(|s| config_profile_name(&s.name).as_deref() == Some(name))?;
        Some(self.sections.swap_remove(i))
    }
}

impl Section {
    /// The section's name, as written between the brackets.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The index in [`Ini::lines`] of its header.
    pub fn header_line(&self) -> usize {
        self.header
    }

    /// Its keys and values, its own first, then those it inherits from
    /// `[DEFAULT]`.
    pub fn pairs(&self) -> impl Iterator<Item = &(String, Value)> {
        self.pairs.iter().chain(
            self.defaults
                .iter()
                .filter(|(k, _)| !self.pairs.iter().any(|(own, _)| own == k)),
        )
    }

    fn value(&self, key: &str) -> Option<&Value> {
        self.pairs
            .iter()
            .chain(self.defaults.iter())
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// The text value of `key` (lower-case), its own or inherited, if it has
    /// one.
    pub fn get(&self, key: &str) -> Option<&str> {
        match self.value(key)? {
            Value::Text(t) => Some(t.as_str()),
            Value::Nested(_) => None,
        }
    }

    /// Whether it has `key` at all (a nested block, an empty value included).
    pub fn has(&self, key: &str) -> bool {
        self.value(key).is_some()
    }
}

/// The profile a config-file section names, as botocore's
/// `build_profile_map` reads it: `default`, or a name starting `profile`
/// whose `shlex.split` words are exactly two (the second is the profile:
/// `[profile work]`, `[profile "my work"]`; `[profilework]` and
/// `[profile a b]` name none).
pub fn config_profile_name(section: &str) -> Option<String> {
    if section.starts_with("profile") {
        let mut words = shlex_split(section)?;
        if words.len() == 2 {
            return words.pop();
        }
        return None;
    }
    (section == "default").then(|| section.to_string())
}

/// Python's `shlex.split` (POSIX mode, no comments): words split at blanks,
/// `'...'` and `"..."` quoting, `\` escaping (inside `"..."` only before `"`
/// or `\`). None where Python raises (an open quote, a final `\`).
fn shlex_split(s: &str) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum St {
        Blank,
        Word,
        Quote(char),
        Escape(Option<char>),
    }
    let blank = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    let mut words = Vec::new();
    let mut word = String::new();
    let mut st = St::Blank;
    for c in s.chars() {
        st = match st {
            St::Blank | St::Word if blank(c) => {
                if st == St::Word {
                    words.push(std::mem::take(&mut word));
                }
                St::Blank
            }
            St::Blank | St::Word if c == '\\' => St::Escape(None),
            St::Blank | St::Word if c == '\'' || c == '"' => St::Quote(c),
            St::Blank | St::Word => {
                word.push(c);
                St::Word
            }
            St::Quote(q) if c == q => St::Word,
            St::Quote('"') if c == '\\' => St::Escape(Some('"')),
            St::Quote(q) => {
                word.push(c);
                St::Quote(q)
            }
            St::Escape(inside) => {
                if inside.is_some_and(|q| c != '\\' && c != q) {
                    word.push('\\');
                }
                word.push(c);
                inside.map_or(St::Word, St::Quote)
            }
        };
    }
    match st {
        St::Quote(_) | St::Escape(_) => None,
        St::Word => {
            words.push(word);
            Some(words)
        }
        St::Blank => Some(words),
    }
}

/// A blank as Python's `str.isspace` has it (Unicode's White_Space and the
/// separators U+001C to U+001F).
fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

fn py_strip(s: &str) -> &str {
    s.trim_matches(py_space)
}

/// A header's name: the stripped line starts with `[`, and the name (at
/// least one character) runs to the last `]`.
fn header_name(stripped: &str) -> Option<&str> {
    let rest = stripped.strip_prefix('[')?;
    let end = rest.rfind(']')?;
    Some(&rest[..end]).filter(|n| !n.is_empty())
}

/// The lines of `text` as Python's universal newlines split them: at LF,
/// CR, or CRLF. Each is (start, end of text, end with its break).
fn split_lines(text: &str) -> Vec<(usize, usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                out.push((start, i, i + 1));
                start = i + 1;
            }
            b'\r' => {
                let end = if bytes.get(i + 1) == Some(&b'\n') {
                    i + 2
                } else {
                    i + 1
                };
                out.push((start, i, end));
                start = end;
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    if start < bytes.len() {
        out.push((start, bytes.len(), bytes.len()));
    }
    out
}

/// The line break a text uses: that of its first line, else `\n`.
pub fn line_break(text: &str) -> &'static str {
    match text.find(['\r', '\n']) {
        Some(i) if text[i..].starts_with("\r\n") => "\r\n",
        Some(i) if text[i..].starts_with('\r') => "\r",
        _ => "\n",
    }
}

/// The keys of one owner: each key's name, line, and the lines of its
/// value.
type Raw<'a> = Vec<(String, usize, Vec<&'a str>)>;

/// A section as it is read: its name, header line and keys.
type RawSection<'a> = (String, usize, Raw<'a>);

/// Where a value is being gathered.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Owner {
    Default,
    Section(usize),
}

/// Parses an INI text as botocore does; see the module's documentation.
pub fn parse(text: &str) -> Result<Ini, IniError> {
    let bad = |line: usize, why: &str| IniError {
        line: line + 1,
        why: why.to_string(),
    };
    let mut defaults: Raw<'_> = Vec::new();
    let mut raw: Vec<RawSection<'_>> = Vec::new();
    let mut seen_sections: HashSet<&str> = HashSet::new();
    let mut seen_keys: HashSet<(Owner, String)> = HashSet::new();
    let mut owner: Option<Owner> = None;
    let mut key: Option<usize> = None;
    let mut indent_level = 0usize;
    let mut lines = Vec::new();
    for (n, (start, text_end, end)) in split_lines(text).into_iter().enumerate() {
        let line = &text[start..text_end];
        let stripped = py_strip(line);
        let indent = line.chars().take_while(|&c| py_space(c)).count();
        let mut push = |kind| {
            lines.push(Line {
                start,
                end,
                text_end,
                kind,
                indent,
            })
        };
        if stripped.starts_with('#') || stripped.starts_with(';') {
            push(LineKind::Comment);
            continue;
        }
        if stripped.is_empty() {
            push(LineKind::Blank);
            if let (Some(o), Some(k)) = (owner, key) {
                owner_keys(&mut defaults, &mut raw, o)[k].2.push("");
            }
            continue;
        }
        if let (Some(o), Some(k)) = (owner, key) {
            if indent > indent_level {
                push(LineKind::Continuation);
                owner_keys(&mut defaults, &mut raw, o)[k].2.push(stripped);
                continue;
            }
        }
        indent_level = indent;
        if let Some(name) = header_name(stripped) {
            push(LineKind::Header);
            key = None;
            if name == "DEFAULT" {
                owner = Some(Owner::Default);
                continue;
            }
            if !seen_sections.insert(name) {
                return Err(bad(n, &format!("section [{name}] is there twice")));
            }
            raw.push((name.to_string(), lines.len() - 1, Vec::new()));
            owner = Some(Owner::Section(raw.len() - 1));
            continue;
        }
        let Some(o) = owner else {
            let why = if n == 0 && line.starts_with('\u{feff}') {
                "a byte order mark, which botocore cannot read past"
            } else {
                "text before the first [section] header"
            };
            return Err(bad(n, why));
        };
        let Some(at) = stripped.find(['=', ':']) else {
            return Err(bad(
                n,
                "neither a [section] header, a key = value line nor a comment",
            ));
        };
        let name = stripped[..at].trim_end_matches(py_space);
        if name.is_empty() {
            return Err(bad(n, "a value without a key"));
        }
        let name = name.to_lowercase();
        let value = py_strip(&stripped[at + 1..]);
        if !seen_keys.insert((o, name.clone())) {
            return Err(bad(n, &format!("key {name} is there twice in its section")));
        }
        push(LineKind::Key);
        let keys = owner_keys(&mut defaults, &mut raw, o);
        keys.push((name, n, vec![value]));
        key = Some(keys.len() - 1);
    }
    let defaults = std::sync::Arc::new(finish(defaults)?);
    let mut sections = Vec::with_capacity(raw.len());
    for (name, header, keys) in raw {
        sections.push(Section {
            name,
            header,
            pairs: finish(keys)?,
            defaults: defaults.clone(),
        });
    }
    Ok(Ini { sections, lines })
}

fn owner_keys<'v, 'a>(
    defaults: &'v mut Raw<'a>,
    raw: &'v mut [RawSection<'a>],
    owner: Owner,
) -> &'v mut Raw<'a> {
    match owner {
        Owner::Default => defaults,
        Owner::Section(i) => &mut raw[i].2,
    }
}

/// Joins each key's lines (`\n`, trailing blanks dropped) and reads nested
/// blocks, as botocore does once the file is read.
fn finish(keys: Raw<'_>) -> Result<Vec<(String, Value)>, IniError> {
    let mut out = Vec::with_capacity(keys.len());
    for (name, line, parts) in keys {
        let len = parts.iter().map(|p| p.len() + 1).sum();
        let mut joined = Zeroizing::new(String::with_capacity(len));
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                joined.push('\n');
            }
            joined.push_str(p);
        }
        let kept = joined.trim_end_matches(py_space).len();
        joined.truncate(kept);
        let value = if joined.starts_with('\n') {
            Value::Nested(nested(&joined).ok_or_else(|| IniError {
                line: line + 1,
                why: format!("a line of the nested block {name} has no ="),
            })?)
        } else {
            Value::Text(joined)
        };
        out.push((name, value));
    }
    Ok(out)
}

/// botocore's `_parse_nested`: each non-blank line (split as Python's
/// `str.splitlines`) is `key = value`.
fn nested(text: &str) -> Option<Vec<(String, Zeroizing<String>)>> {
    let breaks = |c: char| {
        matches!(
            c,
            '\n' | '\r'
                | '\u{b}'
                | '\u{c}'
                | '\u{1c}'
                | '\u{1d}'
                | '\u{1e}'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        )
    };
    let mut out: Vec<(String, Zeroizing<String>)> = Vec::new();
    for line in text.split(breaks) {
        let line = py_strip(line);
        if line.is_empty() {
            continue;
        }
        let (k, v) = line.split_once('=')?;
        let (k, v) = (
            py_strip(k).to_string(),
            Zeroizing::new(py_strip(v).to_string()),
        );
        match out.iter_mut().find(|(key, _)| *key == k) {
            Some(slot) => slot.1 = v,
            None => out.push((k, v)),
        }
    }
    Some(out)
}

/// The largest shared file read: 1 MiB.
pub const MAX_FILE_SIZE: usize = 1 << 20;

/// Reads a shared AWS file: `None` when there is none. Anything but a
/// regular file (a FIFO, `/dev/zero`, a directory) is refused before a byte
/// is read, as is a file over [`MAX_FILE_SIZE`] or not UTF-8. The file is
/// opened without blocking and checked after opening, so nothing swapped in
/// between can make the read hang. (The profile chain's reader: feature
/// `aws`.)
#[cfg(feature = "aws")]
pub(crate) fn read_file(path: &std::path::Path) -> crate::Result<Option<Zeroizing<String>>> {
    read_file_as(path, "not an AWS profile file")
}

/// [`read_file`], saying `what` after a refusal.
pub(crate) fn read_file_as(
    path: &std::path::Path,
    what: &str,
) -> crate::Result<Option<Zeroizing<String>>> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags((rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOCTTY).bits() as i32)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::ISDIR.raw_os_error()) => {
            return Err(not_regular(path, what))
        }
        Err(e) => return Err(crate::Error::io("cannot read", path, e)),
    };
    let meta = file
        .metadata()
        .map_err(|e| crate::Error::io("cannot read", path, e))?;
    if !meta.is_file() {
        return Err(not_regular(path, what));
    }
    let bytes = crate::files::read_capped(&mut &file, MAX_FILE_SIZE, Some(meta.len()))
        .map_err(|e| crate::Error::io("cannot read", path, e))?
        .ok_or_else(|| {
            crate::Error::other(format!("{} is larger than 1 MiB; {what}", path.display()))
        })?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        crate::Error::other(format!("{} is not UTF-8 text; {what}", path.display()))
    })?;
    Ok(Some(Zeroizing::new(text.to_string())))
}

/// Refuses anything at `path` that is there but not a regular file (a lock
/// file is not made beside `/dev/zero`); [`read_file_as`] checks again
/// after opening.
pub(crate) fn check_regular(path: &std::path::Path, what: &str) -> crate::Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => Err(not_regular(path, what)),
        _ => Ok(()),
    }
}

fn not_regular(path: &std::path::Path, what: &str) -> crate::Error {
    crate::Error::other(format!("{} is not a regular file; {what}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text<'a>(ini: &'a Ini, section: &str, key: &str) -> Option<&'a str> {
        ini.section(section)?.get(key)
    }

    #[test]
    fn comments_headers_and_values_as_configparser_reads_them() {
        let ini = parse(
            "# c\n; c\n[default] # note\nk = v ; not a comment\nK2: a=b\n\n[work] ; mine\n\
             k=w\n[ spaced ]\nempty =\n",
        )
        .unwrap();
        let names: Vec<&str> = ini.sections().iter().map(Section::name).collect();
        assert_eq!(names, ["default", "work", " spaced "]);
        assert_eq!(text(&ini, "default", "k"), Some("v ; not a comment"));
        assert_eq!(text(&ini, "default", "k2"), Some("a=b"));
        assert_eq!(text(&ini, "work", "k"), Some("w"));
        assert_eq!(text(&ini, " spaced ", "empty"), Some(""));
        assert!(ini.section("spaced").is_none());
    }

    #[test]
    fn continuations_and_nested_blocks() {
        let ini =
            parse("[a]\nk = one\n  two\n\n  [b]\n# c\n  three\n\n\ns3 =\n  x = 1\n  y=2\n[c]\n")
                .unwrap();
        assert_eq!(text(&ini, "a", "k"), Some("one\ntwo\n\n[b]\nthree"));
        let s3 = &ini.section("a").unwrap().pairs().nth(1).unwrap().1;
        match s3 {
            Value::Nested(n) => {
                let n: Vec<(&str, &str)> =
                    n.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                assert_eq!(n, [("x", "1"), ("y", "2")]);
            }
            Value::Text(_) => panic!("s3 is nested"),
        }
        assert!(ini.section("b").is_none() && ini.section("c").is_some());
        let e = parse("[a]\ns3 =\n  nokey\n").map(|_| ()).unwrap_err();
        assert_eq!(e.line, 2, "{e}");
    }

    #[test]
    fn line_breaks_cr_lf_and_crlf() {
        for br in ["\n", "\r", "\r\n"] {
            let t = format!("[a]{br}k = 1{br}[b]{br}k = 2{br}");
            let ini = parse(&t).unwrap();
            assert_eq!(text(&ini, "b", "k"), Some("2"), "{br:?}");
            assert_eq!(ini.lines().len(), 4);
            assert_eq!(line_break(&t), br);
            assert_eq!(
                &t[ini.lines()[2].start..ini.lines()[2].end],
                format!("[b]{br}")
            );
        }
    }

    #[test]
    fn defaults_are_inherited() {
        let ini = parse("[DEFAULT]\nregion = r\n[a]\nk = 1\n[b]\nregion = own\n[DEFAULT]\nx = 2\n")
            .unwrap();
        assert_eq!(text(&ini, "a", "region"), Some("r"));
        assert_eq!(text(&ini, "b", "region"), Some("own"));
        assert_eq!(text(&ini, "a", "x"), Some("2"));
        assert!(ini.section("DEFAULT").is_none());
    }

    #[test]
    fn refusals_name_the_line() {
        for (t, line) in [
            ("\u{feff}[a]\n", 1),
            ("k = v\n[a]\n", 1),
            ("[a]\nk = 1\n[a]\n", 3),
            ("[a]\nk = 1\nK = 2\n", 3),
            ("[a]\njunk\n", 2),
            ("[a]\n= v\n", 2),
            ("[a]\n[]\n", 2),
            ("[DEFAULT]\nk = 1\n[DEFAULT]\nk = 2\n", 4),
        ] {
            assert_eq!(parse(t).map(|_| ()).unwrap_err().line, line, "{t:?}");
        }
        assert!(parse("[a]\nk = 1\n[ a ]\nk = 2\n").is_ok());
        assert!(parse("").is_ok() && parse("\n# only\n").is_ok());
    }

    #[test]
    fn config_profiles() {
        for (s, want) in [
            ("profile work", Some("work")),
            ("profile   work ", Some("work")),
            ("profile \"my work\"", Some("my work")),
            ("profile 'a\"b'", Some("a\"b")),
            ("profile a\\ b", Some("a b")),
            ("profile \"a\\\"b\\c\"", Some("a\"b\\c")),
            ("profiles x", Some("x")),
            ("profile ''", Some("")),
            ("profilework", None),
            ("profile a b", None),
            ("profile 'a", None),
            ("profile a\\", None),
            ("default", Some("default")),
            ("work", None),
            (" default", None),
        ] {
            assert_eq!(config_profile_name(s).as_deref(), want, "{s:?}");
        }
        let ini = parse("[default]\nregion = a\n[profile default]\nregion = b\n").unwrap();
        assert_eq!(
            ini.config_profile("default").unwrap().get("region"),
            Some("b")
        );
    }
}
