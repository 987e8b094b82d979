//! The last commit of the advisory database, read from the repository's files: git never
//! runs inside a folder cargo depinfo did not create.
//!
//! git always reads `$GIT_DIR/config`, and an advisory database is someone else's repository:
//! its configuration can name a program (`gpg.program` with `log.showSignature`,
//! `core.fsmonitor`, `core.pager`, ...) that any git command run inside it would start. So the
//! commit id and the commit time are read here instead, as git lays them out: `HEAD`, the
//! symbolic ref it names (a loose ref, else `packed-refs`), then the commit object, loose
//! (zlib) or in a pack (a version 2 `.idx`, the pack entry's header, zlib, with `OFS_DELTA`
//! and `REF_DELTA` chains resolved). An annotated tag on the way is peeled to its commit.
//!
//! The repository is not trusted:
//!
//! - only files inside the database's own `.git` directory are read: a path that leads out of
//!   it (through a symbolic link) is refused, a `.git` that is a file (`gitdir: …`, a
//!   submodule or a linked worktree) is not followed, and `objects/info/alternates` is not
//!   read (the commit is then unknown);
//! - every file goes through [`depinfo_read::untrusted_file`] (regular files only, opened without
//!   blocking, under a size cap);
//! - every size is capped: [`MAX_REF_FILE`], [`MAX_PACKED_REFS`], [`MAX_OBJECT`] (an object, or
//!   a delta, inflated), [`MAX_CHAIN`] (all the inflating one lookup does), [`MAX_DELTA_DEPTH`],
//!   [`MAX_PACKS`], [`MAX_PACK_DIR_ENTRIES`], [`MAX_SYMREF_DEPTH`] and [`MAX_TAG_DEPTH`];
//! - the object found is checked against its id (the SHA-1 of its header and content), so a
//!   pack or an index that lies gives an error, never another commit;
//! - a reason is one line and never quotes the repository's bytes.
//!
//! Not read (the commit is then unknown, with the reason): SHA-256 repositories, the
//! `reftable` ref format, version 1 pack indexes (git has written version 2 since 2007), and
//! objects larger than [`MAX_OBJECT`].

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The largest `HEAD` or loose ref read (one line of about 45 bytes).
pub(crate) const MAX_REF_FILE: u64 = 4 << 10;
/// The largest `packed-refs` read (a line of about 60 bytes per ref).
pub(crate) const MAX_PACKED_REFS: u64 = 32 << 20;
/// How many symbolic refs are followed from `HEAD` (git's own limit is 5).
pub(crate) const MAX_SYMREF_DEPTH: usize = 5;
/// How many annotated tags are peeled on the way to the commit.
pub(crate) const MAX_TAG_DEPTH: usize = 8;
/// The largest object (a commit or a tag) or delta inflated: a commit is a few hundred
/// bytes, a signed one a few KiB.
pub(crate) const MAX_OBJECT: usize = 1 << 20;
/// The most bytes inflated for one object, over its whole delta chain.
pub(crate) const MAX_CHAIN: usize = 16 << 20;
/// The longest delta chain followed (git's default `pack.depth` is 50).
pub(crate) const MAX_DELTA_DEPTH: usize = 64;
/// The most packs looked in.
pub(crate) const MAX_PACKS: usize = 256;
/// The most entries of `objects/pack` looked at.
pub(crate) const MAX_PACK_DIR_ENTRIES: usize = 100_000;

/// The compressed bytes read for one object at most: zlib never grows data by more than a few
/// bytes per 16 KiB block, so a stream that has given nothing by then is not an object.
const MAX_COMPRESSED: u64 = (MAX_OBJECT as u64) * 2 + 4096;

/// A SHA-1 object id.
type Oid = [u8; 20];

/// Why the commit is unknown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum Unknown {
    /// No `.git` in the database.
    #[error("not a git repository")]
    NotARepository,
    /// A repository whose commit could not be read: what stopped the reading (one line).
    #[error("{0}")]
    Unreadable(String),
}

fn unreadable(reason: impl Into<String>) -> Unknown {
    Unknown::Unreadable(reason.into())
}

/// The last commit of the repository whose work tree is `worktree`: its id (40 lowercase hex
/// digits) and its committer time (seconds since the Unix epoch), as
/// `git log -1 --format='%H %ct'` prints them.
pub(crate) fn last_commit(worktree: &Path) -> Result<(String, u64), Unknown> {
    let dot_git = worktree.join(".git");
    let metadata = match std::fs::symlink_metadata(&dot_git) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(Unknown::NotARepository),
        Err(e) => return Err(unreadable(format!(".git: {e}"))),
    };
    if metadata.is_file() {
        return Err(unreadable(
            ".git is a file, as in a submodule or a linked worktree, and is not followed",
        ));
    }
    let repo = Repo::open(worktree, &dot_git)?;
    let mut id = repo.head()?;
    let mut budget = Budget::default();
    for _ in 0..=MAX_TAG_DEPTH {
        let object = repo.object(&id, &mut budget)?;
        match object.kind {
            Kind::Commit => return Ok((hex(&id), committer_time(&object.data)?)),
            Kind::Tag => id = tag_target(&object.data)?,
            other => {
                return Err(unreadable(format!(
                    "HEAD names a {}, not a commit",
                    other.name()
                )));
            }
        }
    }
    Err(unreadable(format!(
        "HEAD names tags of tags deeper than {MAX_TAG_DEPTH}"
    )))
}

/// A git directory, by its canonical path.
struct Repo {
    git: PathBuf,
}

/// What a ref file holds.
#[derive(Debug, PartialEq, Eq)]
enum RefValue {
    Id(Oid),
    Symbolic(String),
}

impl Repo {
    /// The repository whose `.git` directory is `dot_git`, in `worktree`; `.git` must not lead
    /// out of the work tree.
    fn open(worktree: &Path, dot_git: &Path) -> Result<Repo, Unknown> {
        let root = std::fs::canonicalize(worktree)
            .map_err(|e| unreadable(format!("cannot resolve the database's path: {e}")))?;
        let git = std::fs::canonicalize(dot_git).map_err(|e| unreadable(format!(".git: {e}")))?;
        if !git.starts_with(&root) {
            return Err(unreadable(
                ".git leads out of the database, and is not followed",
            ));
        }
        if !git.is_dir() {
            return Err(unreadable(".git is not a directory"));
        }
        Ok(Repo { git })
    }

    /// The canonical path of `rel` (a path inside the git directory), `None` when nothing is
    /// there; an error when it leads out of the git directory.
    fn inside(&self, rel: &str) -> Result<Option<PathBuf>, Unknown> {
        match std::fs::canonicalize(self.git.join(rel)) {
            Ok(path) if path.starts_with(&self.git) => Ok(Some(path)),
            Ok(_) => Err(unreadable(format!(
                "{rel} leads out of the repository, and is not followed"
            ))),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(unreadable(format!("{rel}: {e}"))),
        }
    }

    /// The file `rel` inside the git directory, read under `cap`; `None` when it does not
    /// exist or is a directory (as git treats a ref that is a directory).
    fn read(&self, rel: &str, cap: u64) -> Result<Option<Vec<u8>>, Unknown> {
        let Some(path) = self.inside(rel)? else {
            return Ok(None);
        };
        if path.is_dir() {
            return Ok(None);
        }
        depinfo_read::untrusted_file::read(&path, cap)
            .map(Some)
            .map_err(|e| unreadable(format!("{rel}: {}", e.reason)))
    }

    /// The commit (or tag) id `HEAD` leads to, through at most [`MAX_SYMREF_DEPTH`] symbolic
    /// refs.
    fn head(&self) -> Result<Oid, Unknown> {
        let mut name = "HEAD".to_owned();
        for _ in 0..=MAX_SYMREF_DEPTH {
            match self.read_ref(&name)? {
                RefValue::Id(id) => return Ok(id),
                RefValue::Symbolic(target) => name = target,
            }
        }
        Err(unreadable(format!(
            "HEAD names symbolic refs deeper than {MAX_SYMREF_DEPTH}"
        )))
    }

    /// The value of ref `name` (`HEAD`, or a checked name under `refs/`): its loose file, else
    /// its line in `packed-refs`.
    fn read_ref(&self, name: &str) -> Result<RefValue, Unknown> {
        if let Some(bytes) = self.read(name, MAX_REF_FILE)? {
            return parse_ref(&bytes).ok_or_else(|| {
                if name == "HEAD" {
                    unreadable("HEAD is neither a symbolic ref nor a SHA-1 commit id")
                } else {
                    unreadable("the branch HEAD names is not a SHA-1 commit id")
                }
            });
        }
        if name == "HEAD" {
            return Err(unreadable("no HEAD in .git"));
        }
        let packed = self
            .read("packed-refs", MAX_PACKED_REFS)?
            .unwrap_or_default();
        packed_ref(&packed, name).map(RefValue::Id).ok_or_else(|| {
            unreadable(
                "the branch HEAD names does not exist (an empty repository, or refs in the reftable format)",
            )
        })
    }

    /// The object `id`, loose or in a pack, checked against its id.
    fn object(&self, id: &Oid, budget: &mut Budget) -> Result<Object, Unknown> {
        let object = match self.loose(id, budget)? {
            Some(object) => object,
            None => self.packed(id, budget)?.ok_or_else(|| {
                unreadable(format!(
                    "the object {} is not in the repository (objects from alternates are not read)",
                    hex(id)
                ))
            })?,
        };
        if object_id(object.kind, &object.data) != *id {
            return Err(unreadable(format!(
                "the object {} does not hash to its id",
                hex(id)
            )));
        }
        Ok(object)
    }

    /// The loose object `id`, when there is one.
    fn loose(&self, id: &Oid, budget: &mut Budget) -> Result<Option<Object>, Unknown> {
        let name = hex(id);
        let rel = format!("objects/{}/{}", &name[..2], &name[2..]);
        let Some(compressed) = self.read(&rel, MAX_COMPRESSED)? else {
            return Ok(None);
        };
        // Room for the header (`commit 1048576\0`) on top of the largest content.
        let header_room = 32;
        let bytes = inflate(&compressed[..], MAX_OBJECT + header_room)
            .map_err(|e| unreadable(format!("{rel}: {e}")))?;
        budget.spend(bytes.len())?;
        parse_loose(bytes)
            .map(Some)
            .map_err(|e| unreadable(format!("{rel}: {e}")))
    }

    /// The packs' index files, sorted by name (at most [`MAX_PACKS`]).
    fn pack_indexes(&self) -> Result<Vec<String>, Unknown> {
        let Some(dir) = self.inside("objects/pack")? else {
            return Ok(Vec::new());
        };
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotADirectory => return Ok(Vec::new()),
            Err(e) => return Err(unreadable(format!("objects/pack: {e}"))),
        };
        let mut names = Vec::new();
        for entry in entries.take(MAX_PACK_DIR_ENTRIES) {
            let entry = entry.map_err(|e| unreadable(format!("objects/pack: {e}")))?;
            let name = entry.file_name();
            // Only git's own names (`pack-<hex>.idx`): a name put in a message is then plain.
            if let Some(name) = name.to_str().filter(|n| is_pack_index_name(n)) {
                names.push(format!("objects/pack/{name}"));
            }
        }
        names.sort_unstable();
        if names.len() > MAX_PACKS {
            return Err(unreadable(format!(
                "more than {MAX_PACKS} packs in objects/pack"
            )));
        }
        Ok(names)
    }

    /// The object `id` from the first pack whose index lists it.
    fn packed(&self, id: &Oid, budget: &mut Budget) -> Result<Option<Object>, Unknown> {
        for idx_name in self.pack_indexes()? {
            let Some(idx) = self.open_pack(&idx_name)? else {
                continue;
            };
            if let Some(offset) = idx.index.find(id).map_err(|e| idx.index_error(&e))? {
                return self.resolve(&idx, offset, budget).map(Some);
            }
        }
        Ok(None)
    }

    /// The pack of index `idx_name` (`objects/pack/pack-<hex>.idx`), when both files exist.
    fn open_pack(&self, idx_name: &str) -> Result<Option<Pack>, Unknown> {
        let pack_name = format!("{}.pack", idx_name.trim_end_matches(".idx"));
        let (Some(idx_path), Some(pack_path)) = (self.inside(idx_name)?, self.inside(&pack_name)?)
        else {
            return Ok(None);
        };
        let opened = |path: &Path, rel: &str| {
            depinfo_read::untrusted_file::open(path)
                .map_err(|e| unreadable(format!("{rel}: {}", e.reason)))
        };
        let (idx_file, idx_meta) = opened(&idx_path, idx_name)?;
        let (pack_file, pack_meta) = opened(&pack_path, &pack_name)?;
        let index = PackIndex::new(idx_file, idx_meta.len())
            .map_err(|e| unreadable(format!("{idx_name}: {e}")))?;
        let data = PackData::new(pack_file, pack_meta.len())
            .map_err(|e| unreadable(format!("{pack_name}: {e}")))?;
        Ok(Some(Pack {
            idx_name: idx_name.to_owned(),
            data_name: pack_name,
            index,
            data,
        }))
    }

    /// The object at `offset` in `pack`, its delta chain applied.
    fn resolve(&self, pack: &Pack, offset: u64, budget: &mut Budget) -> Result<Object, Unknown> {
        let mut deltas: Vec<Vec<u8>> = Vec::new();
        let mut at = offset;
        let mut base = loop {
            if deltas.len() > MAX_DELTA_DEPTH {
                return Err(unreadable(format!(
                    "{}: a delta chain longer than {MAX_DELTA_DEPTH}",
                    pack.data_name
                )));
            }
            budget.depth(pack)?;
            let entry = pack
                .data
                .entry(at, budget)
                .map_err(|e| pack.pack_error(&e))?;
            match entry.kind {
                EntryKind::Whole(kind) => {
                    break Object {
                        kind,
                        data: entry.data,
                    };
                }
                EntryKind::OfsDelta(base_at) => {
                    deltas.push(entry.data);
                    at = base_at;
                }
                EntryKind::RefDelta(base_id) => {
                    deltas.push(entry.data);
                    match pack
                        .index
                        .find(&base_id)
                        .map_err(|e| pack.index_error(&e))?
                    {
                        Some(base_at) => at = base_at,
                        // A base elsewhere (another pack, or loose): found and checked the
                        // same way, within the same budget.
                        None => break self.object(&base_id, budget)?,
                    }
                }
            }
        };
        for delta in deltas.iter().rev() {
            base.data = apply_delta(&base.data, delta).map_err(|e| pack.pack_error(&e))?;
        }
        Ok(base)
    }
}

/// What one lookup may still do: inflated bytes and delta steps.
#[derive(Debug)]
struct Budget {
    bytes: usize,
    steps: usize,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget {
            bytes: MAX_CHAIN,
            steps: MAX_DELTA_DEPTH * 2,
        }
    }
}

impl Budget {
    fn spend(&mut self, bytes: usize) -> Result<(), Unknown> {
        self.bytes = self.bytes.checked_sub(bytes).ok_or_else(|| {
            unreadable(format!(
                "reading the commit would inflate more than {}",
                depinfo_read::untrusted_file::size_words(MAX_CHAIN as u64)
            ))
        })?;
        Ok(())
    }

    /// One more pack entry read (delta chains through several packs are bounded as a whole).
    fn depth(&mut self, pack: &Pack) -> Result<(), Unknown> {
        self.steps = self.steps.checked_sub(1).ok_or_else(|| {
            unreadable(format!(
                "{}: delta chains longer than {MAX_DELTA_DEPTH}",
                pack.data_name
            ))
        })?;
        Ok(())
    }
}

/// An object's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Commit,
    Tree,
    Blob,
    Tag,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Commit => "commit",
            Kind::Tree => "tree",
            Kind::Blob => "blob",
            Kind::Tag => "tag",
        }
    }

    fn from_name(name: &[u8]) -> Option<Kind> {
        Some(match name {
            b"commit" => Kind::Commit,
            b"tree" => Kind::Tree,
            b"blob" => Kind::Blob,
            b"tag" => Kind::Tag,
            _ => return None,
        })
    }
}

/// An object: its type and content.
#[derive(Debug)]
struct Object {
    kind: Kind,
    data: Vec<u8>,
}

/// The id of an object: the SHA-1 of `<type> <size>\0<content>`.
fn object_id(kind: Kind, data: &[u8]) -> Oid {
    let mut context = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    context.update(format!("{} {}\0", kind.name(), data.len()).as_bytes());
    context.update(data);
    let mut id = [0; 20];
    id.copy_from_slice(context.finish().as_ref());
    id
}

/// 40 lowercase hex digits.
fn hex(id: &Oid) -> String {
    use std::fmt::Write as _;
    id.iter().fold(String::with_capacity(40), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// An id written as exactly 40 hex digits (either case, as git accepts).
fn parse_hex(text: &[u8]) -> Option<Oid> {
    if text.len() != 40 {
        return None;
    }
    let mut id = [0; 20];
    for (byte, pair) in id.iter_mut().zip(text.chunks_exact(2)) {
        let digit = |c: u8| char::from(c).to_digit(16);
        *byte = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
    }
    Some(id)
}

/// What a loose ref or `HEAD` holds: `ref: <name>` or an id, then optional whitespace.
fn parse_ref(bytes: &[u8]) -> Option<RefValue> {
    let text = std::str::from_utf8(bytes).ok()?;
    let text = text.trim_end_matches([' ', '\t', '\n', '\r']);
    if let Some(target) = text.strip_prefix("ref:") {
        let target = target.trim_start_matches([' ', '\t']);
        return is_ref_name(target).then(|| RefValue::Symbolic(target.to_owned()));
    }
    parse_hex(text.as_bytes()).map(RefValue::Id)
}

/// Whether `name` is a ref name under `refs/` that stays a path inside the git directory:
/// git's rules (check-ref-format) on each component, no `..`, no control characters.
fn is_ref_name(name: &str) -> bool {
    name.len() <= 1024
        && name.starts_with("refs/")
        && !name.contains("..")
        && !name.contains("@{")
        && name.split('/').all(|part| {
            !part.is_empty()
                && !part.starts_with('.')
                && !part.as_bytes().ends_with(b".lock")
                && !part
                    .chars()
                    .any(|c| c.is_control() || " ~^:?*[\\".contains(c))
        })
}

/// The id of ref `name` in the text of `packed-refs` (`<id> <name>` lines; `#` headers and
/// `^` peeled lines are skipped).
fn packed_ref(text: &[u8], name: &str) -> Option<Oid> {
    text.split(|&b| b == b'\n').find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let (id, rest) = (line.get(..40)?, line.get(40..)?);
        (rest.strip_prefix(b" ")? == name.as_bytes()).then(|| parse_hex(id))?
    })
}

/// `git_pack_index_name`: `pack-` then 40 hex digits, then `.idx`.
fn is_pack_index_name(name: &str) -> bool {
    name.strip_prefix("pack-")
        .and_then(|rest| rest.strip_suffix(".idx"))
        .is_some_and(|h| h.len() == 40 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The content of an inflated loose object (`<type> <size>\0<content>`).
fn parse_loose(mut bytes: Vec<u8>) -> Result<Object, String> {
    let nul = bytes
        .iter()
        .take(32)
        .position(|&b| b == 0)
        .ok_or("not a git object")?;
    let header = &bytes[..nul];
    let space = header
        .iter()
        .position(|&b| b == b' ')
        .ok_or("not a git object")?;
    let kind = Kind::from_name(&header[..space]).ok_or("not a git object")?;
    let size = std::str::from_utf8(&header[space + 1..])
        .ok()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse::<usize>().ok())
        .ok_or("not a git object")?;
    if size > MAX_OBJECT {
        return Err(too_large());
    }
    if size != bytes.len() - nul - 1 {
        return Err("its size is not the one its header says".to_owned());
    }
    bytes.drain(..=nul);
    Ok(Object { kind, data: bytes })
}

/// At most `max` bytes inflated from the zlib stream at the start of `input` (which may go on
/// past the stream's end); more is an error.
fn inflate(input: impl Read, max: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(input.take(MAX_COMPRESSED))
        .take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| "not a valid zlib stream".to_owned())?;
    if out.len() > max {
        return Err(too_large());
    }
    Ok(out)
}

/// Why an object is refused for its size.
fn too_large() -> String {
    format!(
        "an object larger than {}",
        depinfo_read::untrusted_file::size_words(MAX_OBJECT as u64)
    )
}

/// The committer time of a commit: the header lines end at the first empty line; the
/// `committer Name <email> <seconds> <zone>` line gives the seconds.
fn committer_time(data: &[u8]) -> Result<u64, Unknown> {
    if !data.starts_with(b"tree ") {
        return Err(unreadable("the commit does not start with its tree"));
    }
    for line in data.split(|&b| b == b'\n') {
        if line.is_empty() {
            break;
        }
        let Some(ident) = line.strip_prefix(b"committer ") else {
            continue;
        };
        return ident_time(ident)
            .ok_or_else(|| unreadable("the commit's committer line has no time"));
    }
    Err(unreadable("the commit has no committer line"))
}

/// The seconds of `Name <email> <seconds> <zone>`.
fn ident_time(ident: &[u8]) -> Option<u64> {
    let close = ident.iter().rposition(|&b| b == b'>')?;
    let tail = std::str::from_utf8(&ident[close + 1..]).ok()?;
    let mut words = tail.split_ascii_whitespace();
    let (seconds, zone) = (words.next()?, words.next()?);
    let zone_ok = zone.len() == 5
        && zone.starts_with(['+', '-'])
        && zone[1..].bytes().all(|b| b.is_ascii_digit());
    let seconds_ok =
        !seconds.is_empty() && seconds.len() <= 20 && seconds.bytes().all(|b| b.is_ascii_digit());
    if !zone_ok || !seconds_ok || words.next().is_some() {
        return None;
    }
    seconds.parse().ok()
}

/// The object an annotated tag names, when that is a commit or another tag.
fn tag_target(data: &[u8]) -> Result<Oid, Unknown> {
    let mut lines = data.split(|&b| b == b'\n');
    let object = lines
        .next()
        .and_then(|l| l.strip_prefix(b"object "))
        .and_then(parse_hex);
    let kind = lines.next().and_then(|l| l.strip_prefix(b"type "));
    match (object, kind) {
        (Some(id), Some(b"commit" | b"tag")) => Ok(id),
        _ => Err(unreadable("HEAD names a tag that does not name a commit")),
    }
}

/// A pack and its index.
struct Pack {
    /// `objects/pack/pack-<hex>.idx`, for messages.
    idx_name: String,
    /// `objects/pack/pack-<hex>.pack`, for messages.
    data_name: String,
    index: PackIndex,
    data: PackData,
}

impl Pack {
    fn index_error(&self, e: &str) -> Unknown {
        unreadable(format!("{}: {e}", self.idx_name))
    }

    fn pack_error(&self, e: &str) -> Unknown {
        unreadable(format!("{}: {e}", self.data_name))
    }
}

/// `len` bytes of `file` at `offset`.
fn read_at(mut file: &File, offset: u64, buf: &mut [u8]) -> Result<(), String> {
    file.seek(SeekFrom::Start(offset))
        .and_then(|_| file.read_exact(buf))
        .map_err(|e| format!("cannot read at offset {offset}: {e}"))
}

/// A version 2 pack index: a magic number and version, 256 fan-out counts, the sorted ids,
/// their CRCs, their 4-byte offsets (the top bit set: an index into the 8-byte offsets that
/// follow), then two checksums. Only the parts a lookup needs are read.
struct PackIndex {
    file: File,
    len: u64,
    fanout: Box<[u32; 256]>,
}

/// Where the fan-out table starts.
const IDX_FANOUT: usize = 8;
/// Where the sorted ids start.
const IDX_IDS: u64 = (IDX_FANOUT + 256 * 4) as u64;

impl PackIndex {
    fn new(file: File, len: u64) -> Result<PackIndex, String> {
        let mut head = [0u8; IDX_FANOUT + 256 * 4];
        if len < IDX_IDS + 40 {
            return Err("too short for a pack index".to_owned());
        }
        read_at(&file, 0, &mut head)?;
        if head[..8] != [0xff, b't', b'O', b'c', 0, 0, 0, 2] {
            return Err("not a version 2 pack index".to_owned());
        }
        let mut fanout = Box::new([0u32; 256]);
        for (i, count) in fanout.iter_mut().enumerate() {
            let at = IDX_FANOUT + i * 4;
            *count = u32::from_be_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]]);
        }
        if fanout.windows(2).any(|w| w[0] > w[1]) {
            return Err("its fan-out table is not sorted".to_owned());
        }
        let index = PackIndex { file, len, fanout };
        // Ids, CRCs, offsets and the two checksums must fit; the 8-byte offsets fill the rest.
        let fixed = index.offsets_at() + u64::from(index.count()) * 4 + 40;
        if fixed > len || !(len - fixed).is_multiple_of(8) {
            return Err("its size does not match its object count".to_owned());
        }
        Ok(index)
    }

    fn count(&self) -> u32 {
        self.fanout[255]
    }

    /// Where the 4-byte offsets start.
    fn offsets_at(&self) -> u64 {
        IDX_IDS + u64::from(self.count()) * (20 + 4)
    }

    /// The pack offset of `id`, if the index lists it (a binary search, one read per step).
    fn find(&self, id: &Oid) -> Result<Option<u64>, String> {
        let first = usize::from(id[0]);
        let mut lo = if first == 0 {
            0
        } else {
            self.fanout[first - 1]
        };
        let mut hi = self.fanout[first];
        let mut probe = [0u8; 20];
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            read_at(&self.file, IDX_IDS + u64::from(mid) * 20, &mut probe)?;
            match probe.cmp(id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return self.offset(mid).map(Some),
            }
        }
        Ok(None)
    }

    /// The pack offset of the object at position `i`.
    fn offset(&self, i: u32) -> Result<u64, String> {
        let mut word = [0u8; 4];
        read_at(&self.file, self.offsets_at() + u64::from(i) * 4, &mut word)?;
        let small = u32::from_be_bytes(word);
        if small & 0x8000_0000 == 0 {
            return Ok(u64::from(small));
        }
        let large_at =
            self.offsets_at() + u64::from(self.count()) * 4 + u64::from(small & 0x7fff_ffff) * 8;
        if large_at + 8 > self.len - 40 {
            return Err("a large offset past its table".to_owned());
        }
        let mut large = [0u8; 8];
        read_at(&self.file, large_at, &mut large)?;
        Ok(u64::from_be_bytes(large))
    }
}

/// A pack: `PACK`, a version (2 or 3), an object count, the entries, a checksum.
struct PackData {
    file: File,
    len: u64,
}

/// What a pack entry holds.
enum EntryKind {
    Whole(Kind),
    /// A delta against the entry at this offset in the same pack.
    OfsDelta(u64),
    /// A delta against the object with this id.
    RefDelta(Oid),
}

/// One pack entry, inflated.
struct Entry {
    kind: EntryKind,
    data: Vec<u8>,
}

impl PackData {
    fn new(file: File, len: u64) -> Result<PackData, String> {
        let mut head = [0u8; 12];
        if len < 12 + 20 {
            return Err("too short for a pack".to_owned());
        }
        read_at(&file, 0, &mut head)?;
        if &head[..4] != b"PACK" || !matches!(head[4..8], [0, 0, 0, 2 | 3]) {
            return Err("not a version 2 or 3 pack".to_owned());
        }
        Ok(PackData { file, len })
    }

    /// The entry at `offset`: its header (type and size, then the base of a delta) and its
    /// inflated data, which must be the size the header says.
    fn entry(&self, offset: u64, budget: &mut Budget) -> Result<Entry, String> {
        let end = self.len - 20;
        if offset < 12 || offset >= end {
            return Err(format!("an entry offset {offset} outside the pack"));
        }
        let mut head = [0u8; 32];
        let room = usize::try_from((end - offset).min(32)).unwrap_or(32);
        read_at(&self.file, offset, &mut head[..room])?;
        let head = &head[..room];
        let truncated = || format!("a truncated entry header at offset {offset}");
        let mut i = 0;
        let first = *head.first().ok_or_else(truncated)?;
        let type_bits = (first >> 4) & 7;
        let mut size = u64::from(first & 0x0f);
        let mut shift = 4;
        let mut byte = first;
        while byte & 0x80 != 0 {
            i += 1;
            byte = *head.get(i).ok_or_else(truncated)?;
            if shift > 57 {
                return Err(format!("an entry size that overflows at offset {offset}"));
            }
            size |= u64::from(byte & 0x7f) << shift;
            shift += 7;
        }
        i += 1;
        let kind = match type_bits {
            1 => EntryKind::Whole(Kind::Commit),
            2 => EntryKind::Whole(Kind::Tree),
            3 => EntryKind::Whole(Kind::Blob),
            4 => EntryKind::Whole(Kind::Tag),
            6 => {
                // The base's distance back: big-endian base-128, each continuation adding 1.
                let mut byte = *head.get(i).ok_or_else(truncated)?;
                i += 1;
                let mut back = u64::from(byte & 0x7f);
                while byte & 0x80 != 0 {
                    byte = *head.get(i).ok_or_else(truncated)?;
                    i += 1;
                    back = back
                        .checked_add(1)
                        .and_then(|b| b.checked_mul(128))
                        .map(|b| b | u64::from(byte & 0x7f))
                        .ok_or_else(|| {
                            format!("a delta base offset that overflows at offset {offset}")
                        })?;
                }
                if back == 0 || back > offset - 12 {
                    return Err(format!("a delta base outside the pack at offset {offset}"));
                }
                EntryKind::OfsDelta(offset - back)
            }
            7 => {
                let base = head.get(i..i + 20).ok_or_else(truncated)?;
                i += 20;
                let mut id = [0; 20];
                id.copy_from_slice(base);
                EntryKind::RefDelta(id)
            }
            _ => return Err(format!("an entry of unknown type at offset {offset}")),
        };
        let size = usize::try_from(size)
            .ok()
            .filter(|&s| s <= MAX_OBJECT)
            .ok_or_else(|| format!("{} at offset {offset}", too_large()))?;
        budget.spend(size).map_err(|e| e.to_string())?;
        let data_at = offset + i as u64;
        let mut file = &self.file;
        file.seek(SeekFrom::Start(data_at))
            .map_err(|e| format!("cannot read at offset {data_at}: {e}"))?;
        let data = inflate(file.take(end - data_at), size)
            .map_err(|e| format!("the entry at offset {offset}: {e}"))?;
        if data.len() != size {
            return Err(format!(
                "the entry at offset {offset} is not the size its header says"
            ));
        }
        Ok(Entry { kind, data })
    }
}

/// A base-128 little-endian size at the start of `bytes`, and the rest.
fn delta_size(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut size = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        size |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((size, &bytes[i + 1..]));
        }
    }
    None
}

/// `base` changed by git's delta instructions: the base's size, the result's size, then copies
/// from the base (offset and size, each byte present when its bit is set) and inserts of
/// literal bytes.
fn apply_delta(base: &[u8], delta: &[u8]) -> Result<Vec<u8>, String> {
    let broken = || "a broken delta".to_owned();
    let (base_size, rest) = delta_size(delta).ok_or_else(broken)?;
    let (result_size, mut ops) = delta_size(rest).ok_or_else(broken)?;
    if base_size != base.len() as u64 {
        return Err("a delta against a base of another size".to_owned());
    }
    let result_size = usize::try_from(result_size)
        .ok()
        .filter(|&s| s <= MAX_OBJECT)
        .ok_or_else(|| {
            format!(
                "a delta result larger than {}",
                depinfo_read::untrusted_file::size_words(MAX_OBJECT as u64)
            )
        })?;
    let mut out = Vec::with_capacity(result_size);
    while let Some((&op, rest)) = ops.split_first() {
        ops = rest;
        if op & 0x80 != 0 {
            let mut field = |bits: std::ops::Range<u8>| -> Result<usize, String> {
                let mut value = 0usize;
                for (n, bit) in bits.enumerate() {
                    if op & (1 << bit) != 0 {
                        let (&b, rest) = ops.split_first().ok_or_else(broken)?;
                        ops = rest;
                        value |= usize::from(b) << (8 * n);
                    }
                }
                Ok(value)
            };
            let from = field(0..4)?;
            let size = match field(4..7)? {
                0 => 0x10000,
                n => n,
            };
            let copy = from
                .checked_add(size)
                .and_then(|end| base.get(from..end))
                .ok_or_else(broken)?;
            if out.len() + copy.len() > result_size {
                return Err(broken());
            }
            out.extend_from_slice(copy);
        } else if op != 0 {
            let n = usize::from(op);
            let literal = ops.get(..n).ok_or_else(broken)?;
            ops = &ops[n..];
            if out.len() + n > result_size {
                return Err(broken());
            }
            out.extend_from_slice(literal);
        } else {
            return Err(broken());
        }
    }
    if out.len() != result_size {
        return Err(broken());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;
    use std::process::Command;

    use proptest::prelude::*;
    use testkit::mutation::{mutate, mutation};

    use super::*;

    /// git in a repository the test made, without user or system configuration, committing
    /// at `time`; its trimmed stdout.
    fn git_at(dir: &Path, args: &[&str], time: u64) -> String {
        let date = format!("@{time} +0100");
        let out = testkit::run(
            testkit::git_command(dir, &date).args(args),
            std::time::Duration::from_secs(60),
        );
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            testkit::stderr(&out)
        );
        testkit::stdout(&out).trim().to_owned()
    }

    fn git(dir: &Path, args: &[&str]) -> String {
        git_at(dir, args, 2_000_000_000)
    }

    /// What real git says of commit `rev`: `git log -1 --format='%H %ct'`.
    fn truth_of(dir: &Path, rev: &str) -> (String, u64) {
        let line = git(dir, &["log", "-1", "--format=%H %ct", rev]);
        let (id, time) = line.split_once(' ').unwrap();
        (id.to_owned(), time.parse().unwrap())
    }

    fn truth(dir: &Path) -> (String, u64) {
        truth_of(dir, "HEAD")
    }

    /// Repacks everything into one pack with REF_DELTA entries instead of OFS_DELTA
    /// (`git repack -a -d -f` with `repack.useDeltaBaseOffset=false`), with more `options`.
    fn repack_with_ref_deltas(dir: &Path, options: &[&str]) {
        let repack = [
            "-c",
            "repack.useDeltaBaseOffset=false",
            "repack",
            "-q",
            "-a",
            "-d",
            "-f",
        ];
        git(dir, &[&repack[..], options].concat());
    }

    /// Why the database at `dir` is unreadable (a panic when it is not).
    #[track_caller]
    fn reason(dir: &Path) -> String {
        match last_commit(dir) {
            Err(Unknown::Unreadable(reason)) => reason,
            other => panic!("{other:?}"),
        }
    }

    /// Where the loose object of commit `id` stands in the repository at `dir`.
    fn loose_object(dir: &Path, id: &str) -> PathBuf {
        dir.join(format!(".git/objects/{}/{}", &id[..2], &id[2..]))
    }

    /// A repository of `n` commits, each with a few KiB of nearly the same message (so that
    /// a pack stores them as deltas of one another), the last at `2_000_000_000 + n`.
    fn repository(dir: &Path, n: u64) {
        std::fs::create_dir_all(dir).unwrap();
        git(dir, &["init", "-q", "-b", "main"]);
        let message =
            "advisories\n\n".to_owned() + &"a long and repeated message line\n".repeat(100);
        for i in 1..=n {
            std::fs::write(dir.join("file"), format!("{i}\n")).unwrap();
            std::fs::write(dir.join(".git/MSG"), format!("{message}{i}\n")).unwrap();
            git_at(dir, &["add", "file"], 2_000_000_000 + i);
            git_at(dir, &["commit", "-q", "-F", ".git/MSG"], 2_000_000_000 + i);
        }
    }

    /// Every commit of the repository read by id, compared with git.
    fn every_commit_agrees(dir: &Path) {
        let repo = Repo::open(dir, &dir.join(".git")).unwrap();
        for id in git(dir, &["rev-list", "--all"]).lines() {
            let oid = parse_hex(id.as_bytes()).unwrap();
            let object = repo.object(&oid, &mut Budget::default()).unwrap();
            assert_eq!(object.kind, Kind::Commit);
            let time = committer_time(&object.data).unwrap();
            assert_eq!((id.to_owned(), time), truth_of(dir, id));
        }
    }

    /// The entries of the repository's packs that `git verify-pack` lists as deltas.
    fn deltas(dir: &Path) -> usize {
        let pack_dir = dir.join(".git/objects/pack");
        let mut count = 0;
        for entry in std::fs::read_dir(&pack_dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "idx") {
                let listing = git(dir, &["verify-pack", "-v", path.to_str().unwrap()]);
                // `<id> commit <size> <packed> <offset> <depth> <base>` for a delta.
                count += listing
                    .lines()
                    .filter(|l| l.split_whitespace().nth(1) == Some("commit"))
                    .filter(|l| l.split_whitespace().count() == 7)
                    .count();
            }
        }
        count
    }

    #[test]
    fn loose_objects_and_a_loose_ref_give_what_git_log_gives() {
        let dir = testkit::Scratch::new("git-files-loose");
        repository(&dir, 3);
        assert!(!dir.join(".git/packed-refs").exists());
        assert_eq!(last_commit(&dir).unwrap(), truth(&dir));
        assert_eq!(last_commit(&dir).unwrap().1, 2_000_000_003);
        every_commit_agrees(&dir);
    }

    #[test]
    fn packs_and_packed_refs_after_gc_give_what_git_log_gives() {
        let dir = testkit::Scratch::new("git-files-gc");
        repository(&dir, 30);
        git(&dir, &["gc", "-q", "--aggressive", "--prune=now"]);
        assert!(dir.join(".git/packed-refs").exists());
        assert!(!dir.join(".git/refs/heads/main").exists());
        assert_eq!(last_commit(&dir).unwrap(), truth(&dir));
        // Older commits are stored as OFS_DELTA chains: each is rebuilt and checked.
        assert!(deltas(&dir) > 0, "no commit was stored as a delta");
        every_commit_agrees(&dir);
    }

    #[test]
    fn ref_deltas_and_several_packs_are_read() {
        let dir = testkit::Scratch::new("git-files-ref-delta");
        repository(&dir, 20);
        repack_with_ref_deltas(&dir, &["--window=50", "--depth=50"]);
        assert!(deltas(&dir) > 0, "no commit was stored as a delta");
        // A second pack, and loose objects on top.
        for i in 21..=25 {
            std::fs::write(dir.join("file"), format!("{i}\n")).unwrap();
            git_at(&dir, &["add", "file"], 2_000_000_000 + i);
            git_at(&dir, &["commit", "-q", "-m", "more"], 2_000_000_000 + i);
        }
        git(&dir, &["repack", "-q", "-d"]);
        std::fs::write(dir.join("file"), "26\n").unwrap();
        git_at(&dir, &["commit", "-q", "-a", "-m", "loose"], 2_000_000_026);
        assert_eq!(last_commit(&dir).unwrap(), truth(&dir));
        every_commit_agrees(&dir);
    }

    #[test]
    fn a_detached_head_and_an_annotated_tag_are_followed() {
        let dir = testkit::Scratch::new("git-files-detached");
        repository(&dir, 3);
        git(&dir, &["checkout", "-q", "--detach", "HEAD~1"]);
        assert_eq!(last_commit(&dir).unwrap(), truth(&dir));
        assert_eq!(last_commit(&dir).unwrap().1, 2_000_000_002);
        // HEAD on an annotated tag: peeled to its commit, as git log does.
        git(&dir, &["tag", "-a", "-m", "release", "v1", "main~2"]);
        std::fs::write(dir.join(".git/HEAD"), "ref: refs/tags/v1\n").unwrap();
        assert_eq!(last_commit(&dir).unwrap(), truth(&dir));
        assert_eq!(last_commit(&dir).unwrap().1, 2_000_000_001);
        git(&dir, &["gc", "-q"]);
        assert_eq!(last_commit(&dir).unwrap(), truth(&dir));
    }

    #[test]
    fn what_is_not_read_says_why_in_one_line() {
        let dir = testkit::Scratch::new("git-files-unknown");
        assert_eq!(last_commit(&dir), Err(Unknown::NotARepository));
        // An empty repository.
        let empty = dir.join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        git(&empty, &["init", "-q", "-b", "main"]);
        assert!(
            reason(&empty).contains("does not exist"),
            "{}",
            reason(&empty)
        );
        // A submodule's or worktree's `.git` file is not followed.
        let linked = dir.join("linked");
        std::fs::create_dir_all(&linked).unwrap();
        std::fs::write(linked.join(".git"), "gitdir: /etc\n").unwrap();
        assert!(reason(&linked).contains(".git is a file"));
        // Links out of the repository are not followed.
        let real = dir.join("real");
        repository(&real, 1);
        let outside = dir.join("outside");
        repository(&outside, 2);
        let escape = dir.join("escape");
        std::fs::create_dir_all(&escape).unwrap();
        std::os::unix::fs::symlink(outside.join(".git"), escape.join(".git")).unwrap();
        assert!(reason(&escape).contains("leads out of the database"));
        std::fs::remove_file(real.join(".git/HEAD")).unwrap();
        std::os::unix::fs::symlink(outside.join(".git/HEAD"), real.join(".git/HEAD")).unwrap();
        assert!(
            reason(&real).contains("HEAD leads out of the repository"),
            "{}",
            reason(&real)
        );
        std::fs::remove_file(real.join(".git/HEAD")).unwrap();
        std::fs::write(real.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
        std::fs::remove_dir_all(real.join(".git/objects")).unwrap();
        std::os::unix::fs::symlink(outside.join(".git/objects"), real.join(".git/objects"))
            .unwrap();
        assert!(
            reason(&real).contains("leads out of the repository"),
            "{}",
            reason(&real)
        );
        // A FIFO where HEAD is: refused at once.
        let fifo = dir.join("fifo");
        repository(&fifo, 1);
        std::fs::remove_file(fifo.join(".git/HEAD")).unwrap();
        let made = Command::new("mkfifo")
            .arg(fifo.join(".git/HEAD"))
            .status()
            .unwrap();
        assert!(made.success());
        assert!(
            reason(&fifo).contains("HEAD: is a FIFO"),
            "{}",
            reason(&fifo)
        );
        // HEAD through `..`, or not a ref at all.
        let odd = dir.join("odd");
        repository(&odd, 1);
        for head in [
            "ref: refs/../../../etc/passwd\n",
            "ref: /etc/passwd\n",
            "hello\n",
            "",
        ] {
            std::fs::write(odd.join(".git/HEAD"), head).unwrap();
            assert!(
                reason(&odd).contains("HEAD is neither"),
                "{head:?}: {}",
                reason(&odd)
            );
        }
        // A SHA-256 repository.
        let sha256 = dir.join("sha256");
        std::fs::create_dir_all(&sha256).unwrap();
        git(
            &sha256,
            &["init", "-q", "-b", "main", "--object-format=sha256"],
        );
        std::fs::write(sha256.join("f"), "x").unwrap();
        git(&sha256, &["add", "f"]);
        git(&sha256, &["commit", "-q", "-m", "x"]);
        assert!(
            reason(&sha256).contains("not a SHA-1 commit id"),
            "{}",
            reason(&sha256)
        );
        // A commit larger than the cap.
        let big = dir.join("big");
        std::fs::create_dir_all(&big).unwrap();
        git(&big, &["init", "-q", "-b", "main"]);
        std::fs::write(big.join(".git/MSG"), "m".repeat(MAX_OBJECT + 1)).unwrap();
        git(&big, &["commit", "-q", "--allow-empty", "-F", ".git/MSG"]);
        assert!(
            reason(&big).contains("larger than 1 MiB"),
            "{}",
            reason(&big)
        );
        git(&big, &["gc", "-q"]);
        assert!(
            reason(&big).contains("larger than 1 MiB"),
            "{}",
            reason(&big)
        );
        // A corrupt loose object: never another commit.
        let corrupt = dir.join("corrupt");
        repository(&corrupt, 1);
        let (id, _) = truth(&corrupt);
        let object = loose_object(&corrupt, &id);
        let mut bytes = std::fs::read(&object).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::set_permissions(&object, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .unwrap();
        std::fs::write(&object, bytes).unwrap();
        assert!(!reason(&corrupt).is_empty());
    }

    #[test]
    fn loops_lies_and_oversized_files_are_refused() {
        let dir = testkit::Scratch::new("git-files-lies");
        repository(&dir, 1);
        // Symbolic refs that name each other.
        std::fs::write(dir.join(".git/HEAD"), "ref: refs/heads/a\n").unwrap();
        std::fs::write(dir.join(".git/refs/heads/a"), "ref: refs/heads/b\n").unwrap();
        std::fs::write(dir.join(".git/refs/heads/b"), "ref: refs/heads/a\n").unwrap();
        assert!(reason(&dir).contains("deeper than 5"), "{}", reason(&dir));
        // A packed-refs past its cap, and a HEAD past its cap.
        std::fs::write(dir.join(".git/HEAD"), "ref: refs/heads/packed\n").unwrap();
        let packed = std::fs::File::create(dir.join(".git/packed-refs")).unwrap();
        packed.set_len(MAX_PACKED_REFS + 1).unwrap();
        assert_eq!(reason(&dir), "packed-refs: larger than the limit of 32 MiB");
        std::fs::write(dir.join(".git/HEAD"), "x".repeat(5000)).unwrap();
        assert_eq!(reason(&dir), "HEAD: larger than the limit of 4 KiB");
        // An index whose counts promise more objects than it holds.
        let gc = dir.join("gc");
        repository(&gc, 2);
        git(&gc, &["gc", "-q"]);
        let idx = std::fs::read_dir(gc.join(".git/objects/pack"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "idx"))
            .unwrap();
        let mut bytes = std::fs::read(&idx).unwrap();
        for b in &mut bytes[8 + 255 * 4..8 + 256 * 4] {
            *b = 0xff;
        }
        std::fs::set_permissions(&idx, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .unwrap();
        std::fs::write(&idx, bytes).unwrap();
        let e = last_commit(&gc).unwrap_err().to_string();
        assert!(
            e.ends_with(".idx: its size does not match its object count"),
            "{e}"
        );
    }

    #[test]
    fn delta_instructions_are_applied_and_checked() {
        let base = b"0123456789abcdef";
        // Sizes 16 and 9; copy 4 bytes from offset 2, insert "xyz", copy 2 bytes from 14.
        let delta = [16, 9, 0x91, 2, 4, 3, b'x', b'y', b'z', 0x91, 14, 2];
        assert_eq!(apply_delta(base, &delta).unwrap(), b"2345xyzef");
        // A copy past the base, a wrong base size, a result of another size, opcode 0.
        for bad in [
            &[16, 4, 0x91, 14, 4][..],
            &[15, 4, 0x91, 0, 4],
            &[16, 5, 0x91, 0, 4],
            &[16, 1, 0],
            &[16, 3, 3, b'a'],
            &[0x80],
        ] {
            assert!(apply_delta(base, bad).is_err(), "{bad:?}");
        }
    }

    /// Copies whose offset and size take several bytes, literals first and last, results
    /// filled exactly: each gives the bytes git's rules say.
    #[test]
    fn delta_fields_of_several_bytes_and_exact_fills_are_applied() {
        let base: Vec<u8> = (0..=255u8).chain(0..=255).collect();
        // A literal first (the result empty so far), then a copy of 3 bytes from 0x0102
        // (offset bits 0 and 1), a literal that fills the result exactly.
        let delta = [
            0x80, 0x04, 9, 2, b'a', b'b', 0x93, 0x02, 0x01, 3, 4, b'w', b'x', b'y', b'z',
        ];
        assert_eq!(apply_delta(&base, &delta).unwrap(), b"ab\x02\x03\x04wxyz");
        // A copy of 0x0101 bytes (size bits 4 and 5) from offset 0: the result is filled
        // exactly by it.
        let delta = [0x80, 0x04, 0x81, 0x02, 0xb0, 0x01, 0x01];
        assert_eq!(apply_delta(&base, &delta).unwrap(), &base[..0x101]);
        // Size 0 means 0x10000: past this base.
        assert!(apply_delta(&base, &[0x80, 0x04, 0x80, 0x80, 0x04, 0x80]).is_err());
        // Sizes of several bytes, read little-endian.
        assert_eq!(delta_size(&[0x80, 0x04, 7]), Some((512, &[7u8][..])));
        assert_eq!(delta_size(&[0xff, 0x7f]), Some((0x3fff, &[][..])));
        assert_eq!(delta_size(&[0x80; 10]), None);
        assert_eq!(delta_size(&[]), None);
    }

    /// Inflating stops at its cap: exactly `max` bytes are given, one more is refused.
    #[test]
    fn inflating_gives_at_most_its_cap() {
        let stream = testkit::zlib(b"abcd");
        assert_eq!(inflate(&stream[..], 4).unwrap(), b"abcd");
        assert_eq!(inflate(&stream[..], 3), Err(too_large()));
        // Bytes after the stream (a pack's next entry) are not read.
        let mut followed = stream.clone();
        followed.extend_from_slice(b"next entry");
        assert_eq!(inflate(&followed[..], 4).unwrap(), b"abcd");
        assert!(inflate(&b"not zlib"[..], 4).is_err());
    }

    /// A loose object's header: a type git knows, a size in plain decimal digits that is the
    /// content's, at most [`MAX_OBJECT`].
    #[test]
    fn loose_object_headers_are_checked() {
        let object = |header: &str, content: &[u8]| {
            let mut bytes = header.as_bytes().to_vec();
            bytes.push(0);
            bytes.extend_from_slice(content);
            parse_loose(bytes)
        };
        for (kind, name) in [
            (Kind::Commit, "commit"),
            (Kind::Tree, "tree"),
            (Kind::Blob, "blob"),
            (Kind::Tag, "tag"),
        ] {
            let got = object(&format!("{name} 5"), b"hello").unwrap();
            assert_eq!((got.kind, &got.data[..]), (kind, &b"hello"[..]));
            // The id is git's: `git hash-object -t <type>` of the same content.
            let id = git(
                Path::new("."),
                &["hash-object", "--literally", "-t", name, "/dev/null"],
            );
            assert_eq!(hex(&object_id(kind, b"")), id);
        }
        for (header, content) in [
            ("blob +5", &b"hello"[..]),
            ("blob 5 ", b"hello"),
            ("blob ", b""),
            ("blob 4", b"hello"),
            ("blob 6", b"hello"),
            ("blobs 5", b"hello"),
            ("blob5", b"hello"),
        ] {
            assert!(object(header, content).is_err(), "{header:?}");
        }
        let max = vec![b'x'; MAX_OBJECT];
        assert_eq!(
            object(&format!("blob {MAX_OBJECT}"), &max)
                .unwrap()
                .data
                .len(),
            MAX_OBJECT
        );
        let over = vec![b'x'; MAX_OBJECT + 1];
        assert_eq!(
            object(&format!("blob {}", MAX_OBJECT + 1), &over).unwrap_err(),
            too_large()
        );
    }

    /// `Name <email> <seconds> <zone>`: the seconds are plain digits (at most 20), the zone
    /// a sign and four digits, nothing after.
    #[test]
    fn committer_idents_give_their_seconds_or_nothing() {
        for (ident, time) in [
            ("t <t@x> 1700000000 +0100", Some(1_700_000_000)),
            ("t <t@x> 0 -0000", Some(0)),
            ("a > b <t@x> 12 +0000", Some(12)),
            ("t <t@x>  12   +0000 ", Some(12)),
            ("t <t@x> 00000000000000000012 +0000", Some(12)),
            ("t <t@x> 000000000000000000012 +0000", None),
            ("t <t@x> +12 +0000", None),
            ("t <t@x> 12a +0000", None),
            ("t <t@x> 12 0100", None),
            ("t <t@x> 12 01000", None),
            ("t <t@x> 12 +01000", None),
            ("t <t@x> 12 +01a0", None),
            ("t <t@x> 12 +0100 extra", None),
            ("t <t@x> 12", None),
            ("t <t@x>", None),
            ("t 12 +0100", None),
        ] {
            assert_eq!(ident_time(ident.as_bytes()), time, "{ident:?}");
        }
    }

    #[test]
    fn ref_names_stay_inside_the_git_directory() {
        for good in [
            "refs/heads/main",
            "refs/heads/a/b-c_d",
            "refs/remotes/origin/HEAD",
        ] {
            assert!(is_ref_name(good), "{good}");
        }
        for bad in [
            "HEAD",
            "refs/../x",
            "refs/heads/../../etc",
            "/etc/passwd",
            "refs//x",
            "refs/heads/.hidden",
            "refs/heads/x.lock",
            "refs/heads/a b",
            "refs/heads/a\u{1b}",
            "refs/heads/a\\b",
            "refs/heads/",
            "refs/heads/a@{1}",
            "refs/heads/a:b",
            "refs/heads/a?b",
            "refs/heads/a*b",
            "refs/heads/a[b",
            "refs/heads/a~1",
            "refs/heads/a^1",
        ] {
            assert!(!is_ref_name(bad), "{bad}");
        }
        // At most 1024 bytes.
        let long = |n: usize| format!("refs/heads/{}", "a".repeat(n - "refs/heads/".len()));
        assert!(is_ref_name(&long(1024)));
        assert!(!is_ref_name(&long(1025)));
    }

    /// What `git cat-file --batch-all-objects --batch` lists: every object of the repository
    /// (loose or packed, whole or a delta), with its type and content.
    fn every_object(dir: &Path) -> Vec<(String, String, Vec<u8>)> {
        let out = testkit::run(
            Command::new("git")
                .arg("-C")
                .arg(dir)
                .args(["cat-file", "--batch-all-objects", "--batch"])
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_CONFIG_NOSYSTEM", "1"),
            std::time::Duration::from_secs(60),
        );
        assert!(out.status.success(), "{}", testkit::stderr(&out));
        let mut rest = &out.stdout[..];
        let mut objects = Vec::new();
        // `<id> <type> <size>\n<content>\n`, again and again.
        while let Some(eol) = rest.iter().position(|&b| b == b'\n') {
            let header = std::str::from_utf8(&rest[..eol]).unwrap();
            let mut words = header.split(' ');
            let (id, kind) = (words.next().unwrap(), words.next().unwrap());
            let size: usize = words.next().unwrap().parse().unwrap();
            let content = rest[eol + 1..eol + 1 + size].to_vec();
            objects.push((id.to_owned(), kind.to_owned(), content));
            rest = &rest[eol + 1 + size + 1..];
        }
        assert!(rest.is_empty());
        objects
    }

    /// Every object git lists, read by id: the same type and the same bytes.
    fn every_object_agrees(dir: &Path) -> usize {
        let repo = Repo::open(dir, &dir.join(".git")).unwrap();
        let objects = every_object(dir);
        for (id, kind, content) in &objects {
            let object = repo
                .object(&parse_hex(id.as_bytes()).unwrap(), &mut Budget::default())
                .unwrap_or_else(|e| panic!("{id} {kind}: {e}"));
            assert_eq!(object.kind.name(), kind, "{id}");
            assert!(object.data == *content, "{id} {kind}: other bytes");
        }
        objects.len()
    }

    /// Replaces the index of `dir`'s one pack with the one `git index-pack
    /// --index-version=2,<large>` writes: offsets past `large` go in the 8-byte table.
    fn reindex(dir: &Path, large: u64) {
        let idx = pack_file(dir, "idx");
        let pack = pack_file(dir, "pack");
        let rebuilt = dir.join(".git/rebuilt.idx");
        git(
            dir,
            &[
                "index-pack",
                &format!("--index-version=2,{large}"),
                "-o",
                rebuilt.to_str().unwrap(),
                pack.to_str().unwrap(),
            ],
        );
        std::fs::rename(&rebuilt, &idx).unwrap();
        let rev = idx.with_extension("rev");
        if rev.exists() {
            std::fs::remove_file(rev).unwrap();
        }
    }

    /// The large offsets of the pack index (the 8-byte table), as git writes them when
    /// asked: all of them, or those past the middle of the pack; every object then reads as
    /// `git cat-file` gives it (trees and blobs too, deltas and whole entries).
    #[test]
    fn large_offsets_written_by_git_index_pack_are_read() {
        let dir = testkit::Scratch::new("git-files-large-offsets");
        repository(&dir, 12);
        git(&dir, &["gc", "-q", "--aggressive", "--prune=now"]);
        let before = std::fs::read(pack_file(&dir, "idx")).unwrap();
        let pack_len = std::fs::metadata(pack_file(&dir, "pack")).unwrap().len();
        // Past offset 12 (all but the first entry: git refuses an index whose every offset
        // is large), then past the middle.
        for large in [12, pack_len / 2] {
            reindex(&dir, large);
            let after = std::fs::read(pack_file(&dir, "idx")).unwrap();
            // Some offsets are in the 8-byte table: the index grew by them.
            assert!(after.len() > before.len(), "no large offset at {large}");
            assert_eq!(last_commit(&dir).unwrap(), truth(&dir));
            assert!(every_object_agrees(&dir) > 30);
            every_commit_agrees(&dir);
        }
    }

    /// Every object of packs git wrote (`OFS_DELTA` and `REF_DELTA`, several packs) and of loose
    /// files reads as `git cat-file` gives it, whatever its type.
    #[test]
    fn every_object_reads_as_git_cat_file_gives_it() {
        let dir = testkit::Scratch::new("git-files-every-object");
        repository(&dir, 6);
        assert!(every_object_agrees(&dir) >= 18);
        git(&dir, &["gc", "-q", "--aggressive", "--prune=now"]);
        assert!(every_object_agrees(&dir) >= 18);
        repack_with_ref_deltas(&dir, &[]);
        assert!(every_object_agrees(&dir) >= 18);
    }

    /// HEAD on a blob or a tree (loose, then packed), or on a tag of one: git log shows no
    /// commit there, and neither does this.
    #[test]
    fn head_on_a_blob_or_a_tree_is_not_a_commit() {
        let dir = testkit::Scratch::new("git-files-not-a-commit");
        repository(&dir, 1);
        let blob = git(&dir, &["rev-parse", "HEAD:file"]);
        let tree = git(&dir, &["rev-parse", "HEAD^{tree}"]);
        git(&dir, &["tag", "-a", "-m", "a blob", "blob-tag", &blob]);
        let tag = git(&dir, &["rev-parse", "blob-tag"]);
        let cases = [
            (&blob, "HEAD names a blob, not a commit"),
            (&tree, "HEAD names a tree, not a commit"),
            (&tag, "HEAD names a tag that does not name a commit"),
        ];
        for packed in [false, true] {
            if packed {
                git(&dir, &["gc", "-q", "--prune=now"]);
                assert!(!dir.join(format!(".git/objects/{}", &blob[..2])).exists());
            }
            for (id, reason) in cases {
                std::fs::write(dir.join(".git/HEAD"), format!("{id}\n")).unwrap();
                // git agrees that there is no commit to log there.
                let log = testkit::run(
                    Command::new("git")
                        .arg("-C")
                        .arg(&*dir)
                        .args(["log", "-1", "--format=%H"])
                        .env("GIT_CONFIG_GLOBAL", "/dev/null")
                        .env("GIT_CONFIG_NOSYSTEM", "1"),
                    std::time::Duration::from_secs(60),
                );
                assert!(
                    !log.status.success() || testkit::stdout(&log).trim().is_empty(),
                    "git logs a commit at {id}"
                );
                assert_eq!(
                    last_commit(&dir),
                    Err(Unknown::Unreadable(reason.to_owned())),
                    "{id} (packed: {packed})"
                );
            }
        }
    }

    /// A loose ref git cannot resolve (a symbolic link loop) is an error: never the older
    /// value `packed-refs` still holds for the branch.
    #[test]
    fn an_unresolvable_loose_ref_never_falls_back_to_packed_refs() {
        let dir = testkit::Scratch::new("git-files-ref-loop");
        repository(&dir, 2);
        git(&dir, &["pack-refs", "--all"]);
        std::fs::write(dir.join("file"), "3\n").unwrap();
        git_at(&dir, &["commit", "-q", "-a", "-m", "3"], 2_000_000_003);
        let main = dir.join(".git/refs/heads/main");
        assert!(main.exists());
        assert_eq!(last_commit(&dir).unwrap(), truth(&dir));
        std::fs::remove_file(&main).unwrap();
        std::os::unix::fs::symlink("main", &main).unwrap();
        let reason = reason(&dir);
        assert!(reason.starts_with("refs/heads/main: "), "{reason}");
    }

    /// An index whose offsets point into the pack's header or past its end: refused as
    /// outside the pack, never read there.
    #[test]
    fn index_offsets_outside_the_pack_are_refused() {
        let dir = testkit::Scratch::new("git-files-outside");
        repository(&dir, 2);
        git(&dir, &["gc", "-q", "--prune=now"]);
        let idx = pack_file(&dir, "idx");
        let original = std::fs::read(&idx).unwrap();
        let at = IDX_FANOUT + 255 * 4;
        let count =
            usize::try_from(u32::from_be_bytes(original[at..at + 4].try_into().unwrap())).unwrap();
        let offsets = usize::try_from(IDX_IDS).unwrap() + count * 24;
        std::fs::set_permissions(&idx, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .unwrap();
        for offset in [4u32, 0x7fff_ffff] {
            let mut bytes = original.clone();
            for word in bytes[offsets..offsets + count * 4].chunks_exact_mut(4) {
                word.copy_from_slice(&offset.to_be_bytes());
            }
            std::fs::write(&idx, &bytes).unwrap();
            let e = last_commit(&dir).unwrap_err().to_string();
            assert!(
                e.ends_with(&format!("an entry offset {offset} outside the pack")),
                "{e}"
            );
        }
    }

    /// `objects/pack` a file (no pack): the loose commit is still read.
    #[test]
    fn objects_pack_that_is_a_file_means_no_pack() {
        let dir = testkit::Scratch::new("git-files-pack-file");
        repository(&dir, 1);
        let pack = dir.join(".git/objects/pack");
        std::fs::remove_dir_all(&pack).unwrap();
        std::fs::write(&pack, "").unwrap();
        assert_eq!(last_commit(&dir).unwrap(), truth(&dir));
        // An object in no pack and not loose: not in the repository.
        let absent = "1".repeat(40);
        std::fs::write(dir.join(".git/HEAD"), format!("{absent}\n")).unwrap();
        assert_eq!(
            reason(&dir),
            format!(
                "the object {absent} is not in the repository (objects from alternates are not read)"
            )
        );
    }

    /// A database path where `.git` cannot be looked at (under a file) is unreadable, with
    /// the reason: only a `.git` that is not there means "not a git repository".
    #[test]
    fn a_git_directory_that_cannot_be_looked_at_is_unreadable() {
        let dir = testkit::Scratch::new("git-files-under-a-file");
        let file = dir.join("file");
        std::fs::write(&file, "").unwrap();
        let reason = reason(&file);
        assert!(reason.starts_with(".git: "), "{reason}");
    }

    /// The pack limit: [`MAX_PACKS`] index files are looked in (those without their pack are
    /// skipped), one more is refused.
    #[test]
    fn at_most_max_packs_are_looked_in() {
        let dir = testkit::Scratch::new("git-files-many-packs");
        repository(&dir, 2);
        git(&dir, &["gc", "-q", "--prune=now"]);
        let expected = truth(&dir);
        let pack_dir = dir.join(".git/objects/pack");
        for i in 0..MAX_PACKS - 1 {
            std::fs::write(pack_dir.join(format!("pack-{i:040x}.idx")), "").unwrap();
        }
        assert_eq!(last_commit(&dir).unwrap(), expected);
        std::fs::write(pack_dir.join(format!("pack-{MAX_PACKS:040x}.idx")), "").unwrap();
        assert_eq!(
            reason(&dir),
            format!("more than {MAX_PACKS} packs in objects/pack")
        );
    }

    /// Delta chains as `git repack --depth=100` writes them: every commit whose depth (as
    /// `git verify-pack -v` says) is at most [`MAX_DELTA_DEPTH`] is read, every deeper one is
    /// refused for its chain.
    #[test]
    fn delta_chains_up_to_max_depth_are_read_and_longer_ones_refused() {
        let dir = testkit::Scratch::new("git-files-depth");
        git(&dir, &["init", "-q", "-b", "main"]);
        // Each message shares all but one line with the one before and fewer with the others:
        // each commit is best stored as a delta of the next, so the chains are long.
        let mut stream = String::new();
        for i in 0..200 {
            let mut message = format!("window {i}\n\n");
            for j in i..i + 100 {
                let _ = writeln!(message, "line {j} of a sliding window of advisory text");
            }
            let _ = write!(
                stream,
                "commit refs/heads/main\ncommitter t <t@example.invalid> {} +0100\ndata {}\n{message}\n",
                2_000_000_000 + i,
                message.len()
            );
        }
        let out = testkit::run_with_input(
            Command::new("git")
                .arg("-C")
                .arg(&*dir)
                .args(["fast-import", "--quiet"])
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_CONFIG_NOSYSTEM", "1"),
            stream.as_bytes(),
            std::time::Duration::from_secs(60),
        );
        assert!(out.status.success(), "{}", testkit::stderr(&out));
        git(
            &dir,
            &[
                "repack",
                "-q",
                "-a",
                "-d",
                "-f",
                "--window=250",
                "--depth=100",
            ],
        );
        let listing = git(
            &dir,
            &[
                "verify-pack",
                "-v",
                pack_file(&dir, "idx").to_str().unwrap(),
            ],
        );
        let repo = Repo::open(&dir, &dir.join(".git")).unwrap();
        let (mut read, mut refused, mut at_max) = (0, 0, 0);
        // `<id> commit <size> <packed> <offset> <depth> <base>` for a delta.
        for line in listing.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.get(1) != Some(&"commit") {
                continue;
            }
            let depth: usize = words.get(5).map_or(0, |d| d.parse().unwrap());
            let oid = parse_hex(words[0].as_bytes()).unwrap();
            match repo.object(&oid, &mut Budget::default()) {
                Ok(object) => {
                    assert!(depth <= MAX_DELTA_DEPTH, "{line}");
                    assert_eq!(hex(&object_id(object.kind, &object.data)), words[0]);
                    read += 1;
                    at_max += usize::from(depth == MAX_DELTA_DEPTH);
                }
                Err(Unknown::Unreadable(e)) => {
                    assert!(depth > MAX_DELTA_DEPTH, "{line}: {e}");
                    assert!(e.ends_with("a delta chain longer than 64"), "{e}");
                    refused += 1;
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(read + refused, 200);
        assert!(
            at_max > 0 && refused > 0,
            "{at_max} at the limit, {refused} past it"
        );
    }

    /// A loose object is inflated no further than its cap: one of 20 MiB is refused for its
    /// size, as soon as it passes 1 MiB.
    #[test]
    fn a_huge_loose_object_is_refused_at_the_object_cap() {
        let dir = testkit::Scratch::new("git-files-huge-loose");
        repository(&dir, 1);
        let (id, _) = truth(&dir);
        let object = loose_object(&dir, &id);
        let mut bytes = format!("commit {}\0tree ", 20 << 20).into_bytes();
        bytes.resize(bytes.len() + (20 << 20), b'0');
        std::fs::remove_file(&object).unwrap();
        std::fs::write(&object, testkit::zlib(&bytes)).unwrap();
        assert_eq!(
            reason(&dir),
            format!(
                "objects/{}/{}: an object larger than 1 MiB",
                &id[..2],
                &id[2..]
            )
        );
    }

    /// The largest commit read is [`MAX_OBJECT`] bytes, loose or packed, exactly as git
    /// gives it; one byte more is refused.
    #[test]
    fn a_commit_of_exactly_max_object_bytes_is_read() {
        let dir = testkit::Scratch::new("git-files-max-object");
        git(&dir, &["init", "-q", "-b", "main"]);
        // The commit's content without its message, to size the message.
        git(&dir, &["commit", "-q", "--allow-empty", "-m", "x"]);
        let header = git(&dir, &["cat-file", "commit", "HEAD"]).len() + 1 - 2;
        for (extra, ok) in [(0, true), (1, false)] {
            std::fs::write(
                dir.join(".git/MSG"),
                "m".repeat(MAX_OBJECT - header - 1 + extra) + "\n",
            )
            .unwrap();
            git(
                &dir,
                &["commit", "-q", "--amend", "--allow-empty", "-F", ".git/MSG"],
            );
            let size: usize = git(&dir, &["cat-file", "-s", "HEAD"]).parse().unwrap();
            assert_eq!(size, MAX_OBJECT + extra);
            for _ in ["loose", "packed"] {
                if ok {
                    assert_eq!(last_commit(&dir).unwrap(), truth(&dir));
                } else {
                    let e = last_commit(&dir).unwrap_err().to_string();
                    assert!(e.contains("an object larger than 1 MiB"), "{e}");
                }
                git(&dir, &["gc", "-q", "--prune=now"]);
            }
        }
    }

    /// A repository to mutate: every object in one pack (its older commits stored as
    /// deltas), `packed-refs`, a detached HEAD on a commit stored as a delta, and a copy of that
    /// commit as a loose object (read first); with what git says of it.
    fn seed(label: &str) -> (testkit::Scratch, (String, u64)) {
        let dir = testkit::Scratch::new(label);
        repository(&dir, 12);
        git(&dir, &["gc", "-q", "--aggressive", "--prune=now"]);
        // A detached HEAD on an older commit: stored as a delta, so that a chain is read.
        let older = git(&dir, &["rev-parse", "main~6"]);
        std::fs::write(dir.join(".git/HEAD"), format!("{older}\n")).unwrap();
        let listing = git(
            &dir,
            &[
                "verify-pack",
                "-v",
                pack_file(&dir, "idx").to_str().unwrap(),
            ],
        );
        assert!(
            listing
                .lines()
                .any(|l| l.starts_with(&older) && l.split_whitespace().count() == 7),
            "{older} is not a delta:\n{listing}"
        );
        let truth = truth(&dir);
        let content = git(&dir, &["cat-file", "commit", &truth.0]) + "\n";
        let mut object = format!("commit {}\0", content.len()).into_bytes();
        object.extend_from_slice(content.as_bytes());
        let loose = loose_object(&dir, &truth.0);
        std::fs::create_dir_all(loose.parent().unwrap()).unwrap();
        std::fs::write(&loose, testkit::zlib(&object)).unwrap();
        assert_eq!(last_commit(&dir).unwrap(), truth);
        (dir, truth)
    }

    /// The one file of `dir`'s pack whose name ends in `ext`.
    fn pack_file(dir: &Path, ext: &str) -> PathBuf {
        std::fs::read_dir(dir.join(".git/objects/pack"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == ext))
            .unwrap()
    }

    /// The pack file ending in `ext` of `dir`, once the head's loose copy is removed (the pack
    /// is then where the commit is).
    fn packed_only(dir: &Path, ext: &str) -> PathBuf {
        std::fs::remove_file(loose_object(dir, &truth(dir).0)).unwrap();
        pack_file(dir, ext)
    }

    /// Tokens of the formats: pack entry headers of each type, large offsets, refs.
    const TOKENS: &[&[u8]] = &[
        b"\xff\xff\xff\xff",
        b"\x80\x00\x00\x00",
        b"\x00\x00\x00\x00",
        b"\x9f\xff\xff\xff\xff\xff\xff\x7f",
        b"\x6f\xff\x7f",
        b"\x70",
        b"\x78\x9c",
        b"\x00",
        b"ref: refs/heads/main\n",
        b"ref: ",
        b"../",
        b"committer t <t@example.invalid> 99999999999999999999 +0000\n",
        b"\n",
    ];

    /// Mutates the file `pick` chooses in a seed repository, `cases` times: each read gives
    /// what git says, or an error in one short line; never a panic, never another commit.
    /// The file is restored after each case.
    fn mutations_read_right_or_refused(label: &str, cases: u32, pick: impl Fn(&Path) -> PathBuf) {
        let (dir, _) = seed(label);
        let file = pick(&dir);
        let expected = truth(&dir);
        let original = std::fs::read(&file).unwrap();
        std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .unwrap();
        let mut runner = proptest::test_runner::TestRunner::new(testkit::proptest_cases(cases));
        let strategy = proptest::collection::vec(mutation(TOKENS.len()), 1..4);
        runner
            .run(&strategy, |mutations| {
                std::fs::write(&file, mutate(&original, &mutations, TOKENS)).unwrap();
                let got = last_commit(&dir);
                std::fs::write(&file, &original).unwrap();
                match got {
                    Ok(commit) => prop_assert_eq!(&commit, &expected),
                    Err(e) => {
                        let e = e.to_string();
                        prop_assert!(!e.contains('\n') && e.len() < 300, "{:?}", e);
                    }
                }
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn a_mutated_pack_index_gives_the_commit_or_an_error() {
        // Without the loose copy, the pack is where the commit is.
        mutations_read_right_or_refused("git-files-idx", 300, |dir| packed_only(dir, "idx"));
    }

    #[test]
    fn a_mutated_pack_gives_the_commit_or_an_error() {
        mutations_read_right_or_refused("git-files-pack", 300, |dir| packed_only(dir, "pack"));
    }

    #[test]
    fn a_mutated_loose_object_gives_the_commit_or_an_error() {
        mutations_read_right_or_refused("git-files-loose-object", 300, |dir| {
            loose_object(dir, &truth(dir).0)
        });
    }

    #[test]
    fn a_mutated_head_gives_the_commit_or_an_error() {
        mutations_read_right_or_refused("git-files-head", 300, |dir| dir.join(".git/HEAD"));
    }

    #[test]
    fn mutated_packed_refs_give_the_commit_or_an_error() {
        mutations_read_right_or_refused("git-files-packed-refs", 300, |dir| {
            std::fs::write(dir.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
            dir.join(".git/packed-refs")
        });
    }

    proptest! {
        #![proptest_config(testkit::proptest_cases(2000))]

        /// Any bytes as a delta, against any base: a result of the declared size, or an error.
        #[test]
        fn any_delta_is_applied_or_refused(
            base in proptest::collection::vec(any::<u8>(), 0..64),
            delta in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            if let Ok(out) = apply_delta(&base, &delta) {
                let (_, rest) = delta_size(&delta).unwrap();
                let (size, _) = delta_size(rest).unwrap();
                prop_assert_eq!(out.len() as u64, size);
            }
        }

        /// Any header bytes of a loose object: an object whose size is its header's, or an
        /// error.
        #[test]
        fn any_loose_object_bytes_are_parsed_or_refused(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_loose(bytes);
        }

        #[test]
        fn any_ref_text_is_parsed_or_refused(text in "(ref: )?(refs/|\\.\\./|[a-f0-9]{40}|.){0,8}") {
            match parse_ref(text.as_bytes()) {
                Some(RefValue::Symbolic(name)) => prop_assert!(is_ref_name(&name)),
                Some(RefValue::Id(_)) | None => {}
            }
        }
    }
}
