//! [`ChunkStore`]: the chunk files of one node, and the two-slot checksum
//! protocol that keeps them correct under `kill -9` (see the crate header).

use std::collections::{BTreeSet, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fsapi::InodeId;
use parking_lot::{Mutex, RwLock};
use xxhash_rust::xxh3::xxh3_64;

use crate::cache::{ChunkFiles, FileCache};
use crate::format::{
    block_checksum, check_header, decode_entries, header, zero_block_checksum, Entry,
    BLOCK_SIZE_BYTES as BS, SIDECAR_ENTRY_BYTES, SIDECAR_HEADER_BYTES,
};
use crate::statvfs::{statvfs, FsSpace};
use crate::ChunkError;

/// Number of lock shards; chunks hashing to one shard share its lock.
const LOCK_SHARDS: usize = 256;
/// Suffix of an inode directory being removed (renamed first, so that the
/// removal is atomic as seen by readers; leftovers are swept at open).
const REMOVING_SUFFIX: &str = ".removing";

/// Options of [`ChunkStore::open`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkStoreOptions {
    /// Most file descriptors the open-file cache keeps (two per chunk).
    pub open_files_max: usize,
    /// Largest chunk size accepted, in bytes; offsets and lengths within a
    /// chunk are asserted to stay below it.
    pub chunk_size_max_bytes: u64,
}

impl Default for ChunkStoreOptions {
    fn default() -> Self {
        Self { open_files_max: 1024, chunk_size_max_bytes: 64 * 1024 * 1024 }
    }
}

/// What a sync must make durable for one inode.
#[derive(Debug, Default)]
struct DirtyInode {
    chunks: BTreeSet<u64>,
    /// Files were created or removed in the inode's directory.
    dir_changed: bool,
    /// The inode's directory itself was created.
    dir_created: bool,
}

/// The local chunk files of one node, under one directory. All methods are
/// blocking; async callers run them on blocking threads.
#[derive(Debug)]
pub struct ChunkStore {
    dir: PathBuf,
    opts: ChunkStoreOptions,
    locks: Box<[RwLock<()>]>,
    files: Mutex<FileCache>,
    dirty: Mutex<HashMap<InodeId, DirtyInode>>,
}

fn pread_full(f: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match f.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

fn not_found(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound
}

fn fsync_dir(path: &Path) -> Result<(), ChunkError> {
    File::open(path).and_then(|d| d.sync_all()).map_err(|e| ChunkError::io(path, e))
}

impl ChunkStore {
    /// Open the chunk store in `dir`, creating the directory if needed, and
    /// finish the removal of inodes that a crash interrupted.
    pub fn open(dir: &Path, opts: ChunkStoreOptions) -> Result<Self, ChunkError> {
        assert!(opts.chunk_size_max_bytes % BS == 0 && opts.chunk_size_max_bytes > 0);
        assert!(opts.chunk_size_max_bytes <= 1 << 32, "offsets within a chunk are u32");
        fs::create_dir_all(dir).map_err(|e| ChunkError::io(dir, e))?;
        for entry in fs::read_dir(dir).map_err(|e| ChunkError::io(dir, e))? {
            let entry = entry.map_err(|e| ChunkError::io(dir, e))?;
            if entry.file_name().to_string_lossy().ends_with(REMOVING_SUFFIX) {
                let path = entry.path();
                fs::remove_dir_all(&path).map_err(|e| ChunkError::io(&path, e))?;
            }
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            opts,
            locks: (0..LOCK_SHARDS).map(|_| RwLock::new(())).collect(),
            files: Mutex::new(FileCache::new(opts.open_files_max / 2)),
            dirty: Mutex::new(HashMap::new()),
        })
    }

    /// Every inode that has a data directory here, in no particular order.
    /// Used at start to find data whose inode was deleted before a crash
    /// let its removal finish.
    pub fn inodes(&self) -> Result<Vec<InodeId>, ChunkError> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(|e| ChunkError::io(&self.dir, e))? {
            let entry = entry.map_err(|e| ChunkError::io(&self.dir, e))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.len() == 16 {
                if let Ok(ino) = u64::from_str_radix(&name, 16) {
                    out.push(InodeId(ino));
                }
            }
        }
        Ok(out)
    }

    /// True when this store has a data file for the chunk. [`Self::read`]
    /// answers zeros for a chunk without one, which is right for a hole but
    /// not for a copy that was never made here.
    pub fn has_chunk(&self, ino: InodeId, chunk: u64) -> bool {
        self.dat_path(ino, chunk).exists()
    }

    fn inode_dir(&self, ino: InodeId) -> PathBuf {
        self.dir.join(format!("{:016x}", ino.0))
    }

    fn dat_path(&self, ino: InodeId, chunk: u64) -> PathBuf {
        self.inode_dir(ino).join(format!("{chunk:08x}.dat"))
    }

    fn sum_path(&self, ino: InodeId, chunk: u64) -> PathBuf {
        self.inode_dir(ino).join(format!("{chunk:08x}.sum"))
    }

    fn lock(&self, ino: InodeId, chunk: u64) -> &RwLock<()> {
        let mut key = [0u8; 16];
        key[..8].copy_from_slice(&ino.0.to_le_bytes());
        key[8..].copy_from_slice(&chunk.to_le_bytes());
        &self.locks[(xxh3_64(&key) % LOCK_SHARDS as u64) as usize]
    }

    fn check_range(&self, offset_in_chunk: u32, len: usize) {
        let end = u64::from(offset_in_chunk) + len as u64;
        assert!(
            end <= self.opts.chunk_size_max_bytes,
            "chunk range {offset_in_chunk}+{len} crosses the largest chunk size; the caller splits"
        );
    }

    /// Open a chunk's existing files. `Ok(None)`: no data file, the chunk
    /// reads as zeros.
    fn open_existing(&self, ino: InodeId, chunk: u64) -> Result<Option<Opened>, ChunkError> {
        if let Some(f) = self.files.lock().get((ino, chunk)) {
            return Ok(Some(Opened::Pair(f)));
        }
        let dat_path = self.dat_path(ino, chunk);
        let dat = match OpenOptions::new().read(true).write(true).open(&dat_path) {
            Ok(f) => f,
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(ChunkError::io(&dat_path, e)),
        };
        let sum_path = self.sum_path(ino, chunk);
        let sum = match OpenOptions::new().read(true).write(true).open(&sum_path) {
            Ok(f) => f,
            // Read as "never written": the data must be zeros. Not cached;
            // the next write creates the sidecar.
            Err(e) if not_found(&e) => return Ok(Some(Opened::DataOnly(dat))),
            Err(e) => return Err(ChunkError::io(&sum_path, e)),
        };
        let sum_len = sum.metadata().map_err(|e| ChunkError::io(&sum_path, e))?.len();
        if sum_len > 0 {
            self.read_header(&sum, &sum_path)?;
        }
        let files = Arc::new(ChunkFiles { dat, sum });
        self.files.lock().insert((ino, chunk), files.clone());
        Ok(Some(Opened::Pair(files)))
    }

    fn read_header(&self, sum: &File, sum_path: &Path) -> Result<(), ChunkError> {
        let mut raw = [0u8; SIDECAR_HEADER_BYTES as usize];
        let n = pread_full(sum, &mut raw, 0).map_err(|e| ChunkError::io(sum_path, e))?;
        check_header(sum_path, &raw[..n])
    }

    /// Open or create a chunk's files for writing. Called under the chunk's
    /// write lock.
    fn open_for_write(&self, ino: InodeId, chunk: u64) -> Result<Arc<ChunkFiles>, ChunkError> {
        if let Some(f) = self.files.lock().get((ino, chunk)) {
            return Ok(f);
        }
        let dir = self.inode_dir(ino);
        let dir_created = match fs::create_dir(&dir) {
            Ok(()) => true,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
            Err(e) => return Err(ChunkError::io(&dir, e)),
        };
        let dat_path = self.dat_path(ino, chunk);
        let sum_path = self.sum_path(ino, chunk);
        let dat_exists = match fs::metadata(&dat_path) {
            Ok(_) => true,
            Err(e) if not_found(&e) => false,
            Err(e) => return Err(ChunkError::io(&dat_path, e)),
        };
        let sum = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&sum_path)
            .map_err(|e| ChunkError::io(&sum_path, e))?;
        let sum_len = sum.metadata().map_err(|e| ChunkError::io(&sum_path, e))?.len();
        if !dat_exists || sum_len == 0 {
            // No data file yet: any sidecar left is stale (a removal that a
            // crash interrupted after the data file went). Start it afresh,
            // before the data file exists, so the pair never disagrees.
            sum.write_all_at(&header(), 0).map_err(|e| ChunkError::io(&sum_path, e))?;
            sum.set_len(SIDECAR_HEADER_BYTES).map_err(|e| ChunkError::io(&sum_path, e))?;
        } else {
            self.read_header(&sum, &sum_path)?;
        }
        let dat = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&dat_path)
            .map_err(|e| ChunkError::io(&dat_path, e))?;
        if dir_created || !dat_exists {
            let mut dirty = self.dirty.lock();
            let d = dirty.entry(ino).or_default();
            d.dir_changed = true;
            d.dir_created |= dir_created;
        }
        let files = Arc::new(ChunkFiles { dat, sum });
        self.files.lock().insert((ino, chunk), files.clone());
        Ok(files)
    }

    fn read_entries(
        &self,
        ino: InodeId,
        chunk: u64,
        sum: Option<&File>,
        first_block: u64,
        count: usize,
    ) -> Result<Vec<Entry>, ChunkError> {
        let Some(sum) = sum else {
            return Ok(vec![Entry::NEVER_WRITTEN; count]);
        };
        let mut raw = vec![0u8; count * SIDECAR_ENTRY_BYTES as usize];
        let off = SIDECAR_HEADER_BYTES + first_block * SIDECAR_ENTRY_BYTES;
        // The path is only formatted when an error needs it: this runs on
        // every read and write.
        let n = pread_full(sum, &mut raw, off)
            .map_err(|e| ChunkError::io(self.sum_path(ino, chunk), e))?;
        decode_entries(|| self.sum_path(ino, chunk), &raw, n, count)
    }

    fn write_entries(
        &self,
        ino: InodeId,
        chunk: u64,
        sum: &File,
        first_block: u64,
        entries: &[Entry],
    ) -> Result<(), ChunkError> {
        let mut raw = Vec::with_capacity(entries.len() * SIDECAR_ENTRY_BYTES as usize);
        for e in entries {
            e.encode(&mut raw);
        }
        let off = SIDECAR_HEADER_BYTES + first_block * SIDECAR_ENTRY_BYTES;
        sum.write_all_at(&raw, off).map_err(|e| ChunkError::io(self.sum_path(ino, chunk), e))
    }

    fn read_block(
        &self,
        ino: InodeId,
        chunk: u64,
        dat: &File,
        block: u64,
    ) -> Result<Vec<u8>, ChunkError> {
        let mut buf = vec![0u8; BS as usize];
        pread_full(dat, &mut buf, block * BS)
            .map_err(|e| ChunkError::io(self.dat_path(ino, chunk), e))?;
        Ok(buf)
    }

    fn checksum_error(&self, ino: InodeId, chunk: u64, block: u64) -> ChunkError {
        tracing::error!(
            file = %self.dat_path(ino, chunk).display(),
            block,
            "chunk block fails its checksum"
        );
        ChunkError::Checksum { ino, chunk, block }
    }

    /// The checksum of what block `block` holds on disk now, for the `prev`
    /// slot of a write that replaces it whole. Reads the block only when its
    /// entry does not tell (a write was interrupted). A block that fails its
    /// checksum yields 0: if this write is interrupted too, the block keeps
    /// failing, as it did before.
    fn content_checksum(
        &self,
        ino: InodeId,
        chunk: u64,
        dat: &File,
        block: u64,
        entry: Entry,
    ) -> Result<u64, ChunkError> {
        if let Some(h) = entry.known_content() {
            return Ok(h);
        }
        let old = self.read_block(ino, chunk, dat, block)?;
        Ok(entry.matches(&old).unwrap_or_else(|| {
            tracing::warn!(
                file = %self.dat_path(ino, chunk).display(),
                block,
                "overwriting a block that fails its checksum"
            );
            0
        }))
    }

    fn mark_dirty(&self, ino: InodeId, chunk: u64) {
        self.dirty.lock().entry(ino).or_default().chunks.insert(chunk);
    }

    /// Write `data` at `offset_in_chunk` of chunk `chunk` of `ino`.
    ///
    /// Per block, in this order: (1) the sidecar entry becomes
    /// `(h(new), h(old))`, (2) the data is written, (3) the entry settles to
    /// `(h(new), h(new))`. A partial block is read, verified and merged first
    /// (under the chunk's lock); a whole block is not read unless its entry
    /// shows an interrupted write.
    ///
    /// # Panics
    /// When the range passes [`ChunkStoreOptions::chunk_size_max_bytes`]:
    /// the caller splits writes at chunk boundaries.
    pub fn write(
        &self,
        ino: InodeId,
        chunk: u64,
        offset_in_chunk: u32,
        data: &[u8],
    ) -> Result<(), ChunkError> {
        self.check_range(offset_in_chunk, data.len());
        if data.is_empty() {
            return Ok(());
        }
        let _guard = self.lock(ino, chunk).write();
        let files = self.open_for_write(ino, chunk)?;
        let start = u64::from(offset_in_chunk);
        let end = start + data.len() as u64;
        let first = start / BS;
        let last = (end - 1) / BS;
        let count = (last - first + 1) as usize;
        let old_entries = self.read_entries(ino, chunk, Some(&files.sum), first, count)?;
        let mut new_entries = Vec::with_capacity(count);
        for (i, block) in (first..=last).enumerate() {
            let (b_start, b_end) = (block * BS, block * BS + BS);
            let (lo, hi) = (start.max(b_start), end.min(b_end));
            let entry = old_entries[i];
            let (new, old) = if lo == b_start && hi == b_end {
                let slice = &data[(lo - start) as usize..(hi - start) as usize];
                let old = self.content_checksum(ino, chunk, &files.dat, block, entry)?;
                (block_checksum(slice), old)
            } else {
                let mut buf = self.read_block(ino, chunk, &files.dat, block)?;
                let Some(old) = entry.matches(&buf) else {
                    return Err(self.checksum_error(ino, chunk, block));
                };
                buf[(lo - b_start) as usize..(hi - b_start) as usize]
                    .copy_from_slice(&data[(lo - start) as usize..(hi - start) as usize]);
                (block_checksum(&buf), old)
            };
            new_entries.push(Entry { cur: new, prev: old });
        }
        // (1) Both contents acceptable; (2) the data; (3) only the new one.
        self.write_entries(ino, chunk, &files.sum, first, &new_entries)?;
        files
            .dat
            .write_all_at(data, start)
            .map_err(|e| ChunkError::io(self.dat_path(ino, chunk), e))?;
        let settled: Vec<Entry> = new_entries.iter().map(|e| Entry::settled(e.cur)).collect();
        if settled != new_entries {
            self.write_entries(ino, chunk, &files.sum, first, &settled)?;
        }
        self.mark_dirty(ino, chunk);
        Ok(())
    }

    /// Read `len` bytes at `offset_in_chunk` of chunk `chunk` of `ino`,
    /// verifying every block touched. A missing chunk, or a range past the
    /// end of its file, reads as zeros.
    ///
    /// # Panics
    /// When the range passes [`ChunkStoreOptions::chunk_size_max_bytes`].
    pub fn read(
        &self,
        ino: InodeId,
        chunk: u64,
        offset_in_chunk: u32,
        len: u32,
    ) -> Result<Vec<u8>, ChunkError> {
        self.check_range(offset_in_chunk, len as usize);
        if len == 0 {
            return Ok(Vec::new());
        }
        let _guard = self.lock(ino, chunk).read();
        let Some(files) = self.open_existing(ino, chunk)? else {
            return Ok(vec![0; len as usize]);
        };
        let start = u64::from(offset_in_chunk);
        let end = start + u64::from(len);
        let first = start / BS;
        let last = (end - 1) / BS;
        let count = (last - first + 1) as usize;
        let mut buf = vec![0u8; count * BS as usize];
        pread_full(files.dat(), &mut buf, first * BS)
            .map_err(|e| ChunkError::io(self.dat_path(ino, chunk), e))?;
        let entries = self.read_entries(ino, chunk, files.sum(), first, count)?;
        for (i, entry) in entries.iter().enumerate() {
            let block = &buf[i * BS as usize..(i + 1) * BS as usize];
            if entry.matches(block).is_none() {
                return Err(self.checksum_error(ino, chunk, first + i as u64));
            }
        }
        let skip = (start - first * BS) as usize;
        buf.drain(..skip);
        buf.truncate(len as usize);
        Ok(buf)
    }

    /// The chunk numbers of `ino` that have a file on disk, ascending.
    fn list_chunks(&self, ino: InodeId) -> Result<BTreeSet<u64>, ChunkError> {
        let dir = self.inode_dir(ino);
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if not_found(&e) => return Ok(BTreeSet::new()),
            Err(e) => return Err(ChunkError::io(&dir, e)),
        };
        let mut out = BTreeSet::new();
        for entry in entries {
            let entry = entry.map_err(|e| ChunkError::io(&dir, e))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let stem = name.strip_suffix(".dat").or_else(|| name.strip_suffix(".sum"));
            if let Some(chunk) = stem.and_then(|s| u64::from_str_radix(s, 16).ok()) {
                out.insert(chunk);
            }
        }
        Ok(out)
    }

    /// Cut `ino` to `new_size` bytes, its chunks being `chunk_size` bytes:
    /// chunks wholly past the end go, the last one is cut, the tail of its
    /// last partial block reads as zeros from then on (also after a later
    /// extension).
    ///
    /// # Panics
    /// When `chunk_size` is not a positive multiple of the block size within
    /// [`ChunkStoreOptions::chunk_size_max_bytes`].
    pub fn truncate(&self, ino: InodeId, new_size: u64, chunk_size: u64) -> Result<(), ChunkError> {
        assert!(
            chunk_size > 0 && chunk_size % BS == 0 && chunk_size <= self.opts.chunk_size_max_bytes,
            "chunk size {chunk_size} is not a multiple of {BS} within the maximum"
        );
        let kept = new_size.div_ceil(chunk_size);
        for chunk in self.list_chunks(ino)?.range(kept..) {
            let _guard = self.lock(ino, *chunk).write();
            self.files.lock().remove((ino, *chunk));
            // The data file first: a chunk without one reads as zeros, and
            // the next write resets a sidecar left behind.
            for path in [self.dat_path(ino, *chunk), self.sum_path(ino, *chunk)] {
                match fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if not_found(&e) => {}
                    Err(e) => return Err(ChunkError::io(&path, e)),
                }
            }
            let mut dirty = self.dirty.lock();
            let d = dirty.entry(ino).or_default();
            d.chunks.remove(chunk);
            d.dir_changed = true;
        }
        if kept > 0 {
            let last = kept - 1;
            self.truncate_chunk(ino, last, new_size - last * chunk_size)?;
        }
        Ok(())
    }

    /// Cut chunk `chunk` to `len` bytes (`len > 0`).
    fn truncate_chunk(&self, ino: InodeId, chunk: u64, len: u64) -> Result<(), ChunkError> {
        let _guard = self.lock(ino, chunk).write();
        let dat_path = self.dat_path(ino, chunk);
        match fs::metadata(&dat_path) {
            Ok(_) => {}
            Err(e) if not_found(&e) => return Ok(()),
            Err(e) => return Err(ChunkError::io(&dat_path, e)),
        }
        let files = self.open_for_write(ino, chunk)?;
        let sum_path = self.sum_path(ino, chunk);
        let dat_len = files.dat.metadata().map_err(|e| ChunkError::io(&dat_path, e))?.len();
        let sum_len = files.sum.metadata().map_err(|e| ChunkError::io(&sum_path, e))?.len();
        let entry_count =
            sum_len.saturating_sub(SIDECAR_HEADER_BYTES).div_ceil(SIDECAR_ENTRY_BYTES);
        let kept_blocks = len.div_ceil(BS);
        if dat_len <= len && entry_count <= kept_blocks {
            return Ok(()); // Nothing past the new end: an extension, or no-op.
        }
        // Entries from the block holding the new end (if cut inside it) to
        // the last entry; every block changes to its new content, zeros past
        // the end, with the old content kept acceptable until the cut is done.
        let boundary = (len % BS != 0 && dat_len > len).then_some(len / BS);
        let first = boundary.unwrap_or(kept_blocks);
        let last = entry_count.max(first + u64::from(boundary.is_some()));
        let old =
            self.read_entries(ino, chunk, Some(&files.sum), first, (last - first) as usize)?;
        let mut new = Vec::with_capacity(old.len());
        for (i, entry) in old.iter().enumerate() {
            let block = first + i as u64;
            if Some(block) == boundary {
                let mut buf = self.read_block(ino, chunk, &files.dat, block)?;
                let Some(old_sum) = entry.matches(&buf) else {
                    return Err(self.checksum_error(ino, chunk, block));
                };
                buf[(len % BS) as usize..].fill(0);
                new.push(Entry { cur: block_checksum(&buf), prev: old_sum });
            } else if *entry == Entry::NEVER_WRITTEN {
                new.push(*entry);
            } else {
                let old_sum = self.content_checksum(ino, chunk, &files.dat, block, *entry)?;
                new.push(Entry { cur: zero_block_checksum(), prev: old_sum });
            }
        }
        if !new.is_empty() {
            self.write_entries(ino, chunk, &files.sum, first, &new)?;
        }
        if dat_len > len {
            files.dat.set_len(len).map_err(|e| ChunkError::io(&dat_path, e))?;
        }
        let sum_len_new = SIDECAR_HEADER_BYTES + kept_blocks * SIDECAR_ENTRY_BYTES;
        if sum_len > sum_len_new {
            files.sum.set_len(sum_len_new).map_err(|e| ChunkError::io(&sum_path, e))?;
        }
        if let Some(b) = boundary {
            self.write_entries(ino, chunk, &files.sum, b, &[Entry::settled(new[0].cur)])?;
        }
        self.mark_dirty(ino, chunk);
        Ok(())
    }

    /// Delete every chunk of `ino` (its directory). The directory is renamed
    /// first, so a crash never leaves half an inode visible.
    pub fn remove_inode(&self, ino: InodeId) -> Result<(), ChunkError> {
        self.files.lock().remove_inode(ino);
        self.dirty.lock().remove(&ino);
        let dir = self.inode_dir(ino);
        let doomed = self.dir.join(format!("{:016x}{REMOVING_SUFFIX}", ino.0));
        match fs::rename(&dir, &doomed) {
            Ok(()) => {}
            Err(e) if not_found(&e) => return Ok(()),
            Err(e) => return Err(ChunkError::io(&dir, e)),
        }
        fs::remove_dir_all(&doomed).map_err(|e| ChunkError::io(&doomed, e))
    }

    /// Make durable (fdatasync) every data and sidecar file of `ino` written
    /// since its last sync, sidecar first, and the directory entries of
    /// files created or removed.
    pub fn sync_inode(&self, ino: InodeId) -> Result<(), ChunkError> {
        let Some(todo) = self.dirty.lock().remove(&ino) else {
            return Ok(());
        };
        let result = self.sync_dirty(ino, &todo);
        if result.is_err() {
            // Keep it dirty so a retry syncs it again.
            let mut dirty = self.dirty.lock();
            let d = dirty.entry(ino).or_default();
            d.chunks.extend(todo.chunks);
            d.dir_changed |= todo.dir_changed;
            d.dir_created |= todo.dir_created;
        }
        result
    }

    fn sync_dirty(&self, ino: InodeId, todo: &DirtyInode) -> Result<(), ChunkError> {
        for &chunk in &todo.chunks {
            let Some(files) = self.open_existing(ino, chunk)? else {
                continue; // Removed since: nothing to keep.
            };
            if let Some(sum) = files.sum() {
                sum.sync_data().map_err(|e| ChunkError::io(self.sum_path(ino, chunk), e))?;
            }
            files.dat().sync_data().map_err(|e| ChunkError::io(self.dat_path(ino, chunk), e))?;
        }
        if todo.dir_changed {
            match fsync_dir(&self.inode_dir(ino)) {
                Err(ChunkError::Io { source, .. }) if not_found(&source) => {}
                other => other?,
            }
        }
        if todo.dir_created {
            fsync_dir(&self.dir)?;
        }
        Ok(())
    }

    /// [`ChunkStore::sync_inode`] for every inode written since its last sync.
    pub fn sync_all(&self) -> Result<(), ChunkError> {
        let inodes: Vec<InodeId> = self.dirty.lock().keys().copied().collect();
        for ino in inodes {
            self.sync_inode(ino)?;
        }
        Ok(())
    }

    /// Bytes allocated on disk for `ino`'s chunks and sidecars.
    pub fn used_bytes(&self, ino: InodeId) -> Result<u64, ChunkError> {
        let dir = self.inode_dir(ino);
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if not_found(&e) => return Ok(0),
            Err(e) => return Err(ChunkError::io(&dir, e)),
        };
        let mut total = 0u64;
        for entry in entries {
            let entry = entry.map_err(|e| ChunkError::io(&dir, e))?;
            match entry.metadata() {
                Ok(m) => total = total.saturating_add(m.blocks().saturating_mul(512)),
                Err(e) if not_found(&e) => {}
                Err(e) => return Err(ChunkError::io(entry.path(), e)),
            }
        }
        Ok(total)
    }

    /// Space and inode counts of the file system holding the chunks.
    pub fn fs_stats(&self) -> Result<FsSpace, ChunkError> {
        statvfs(&self.dir).map_err(|e| ChunkError::io(&self.dir, e))
    }
}

/// A chunk's files as found by a reader.
enum Opened {
    Pair(Arc<ChunkFiles>),
    /// A data file without a sidecar (created by nothing but outside damage).
    DataOnly(File),
}

impl Opened {
    fn dat(&self) -> &File {
        match self {
            Opened::Pair(f) => &f.dat,
            Opened::DataOnly(dat) => dat,
        }
    }

    fn sum(&self) -> Option<&File> {
        match self {
            Opened::Pair(f) => Some(&f.sum),
            Opened::DataOnly(_) => None,
        }
    }
}
