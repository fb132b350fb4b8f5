//! The dashboards kept under `<data-dir>/dashboards/`, one file each, and
//! those provisioned from folders of files, merged into one view.
//!
//! A stored dashboard is the file `<root>/<folder uid>/<uid>.json` (the
//! General folder is `general/`), holding exactly Grafana's dashboard
//! model: what we store is what an export gives. Files are written to a
//! temporary name, fsynced, renamed and the folder fsynced, so a save the
//! API acknowledged survives `kill -9` and a crash leaves either the old
//! file or the new one. `docs/format/dashboards.md` describes the layout.
//!
//! Only a summary of each dashboard stays in memory (uid, title, tags,
//! version, folder, file): the model is read from its file when asked for,
//! so a server nobody browses holds no dashboards, however big.
//!
//! Provisioned dashboards are read from their provider's files (they
//! belong to the provider). When a provider allows UI updates, a save
//! writes a stored copy, which wins over the provisioned file until that
//! file changes (newer modification time), as Grafana keeps UI edits until
//! the file is edited.

use super::migrate;
use super::model::{self, slugify};
use crate::error::{Error, Result};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::SystemTime;

/// The General folder's directory (Grafana's reserved uid for it).
pub const GENERAL: &str = "general";
/// A folder's title, inside its directory.
const FOLDER_META: &str = ".folder.json";
const TMP_SUFFIX: &str = ".tmp";

/// Where a provisioned dashboard comes from.
#[derive(Debug, Clone)]
pub struct Provenance {
    /// The provider's name.
    pub provider: String,
    /// The file (Grafana's `provisionedExternalId`).
    pub file: PathBuf,
    /// Whether saves from the UI are accepted.
    pub allow_ui_updates: bool,
}

/// One dashboard: what listing and checks need, and the file its model
/// is read from.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its uid.
    pub uid: String,
    /// Its title.
    pub title: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// Its version.
    pub version: i64,
    /// The file holding its model.
    pub file: PathBuf,
    /// Whether `file` is a provider's (read as provisioning reads it:
    /// `__inputs` resolved) rather than one the store wrote.
    pub from_provider: bool,
    /// Its folder's uid; empty for General.
    pub folder_uid: String,
    /// First seen (stored files: the file's time when loaded).
    pub created: SystemTime,
    /// Last saved (provisioned: the file's modification time).
    pub updated: SystemTime,
    /// Set when a provider owns the dashboard.
    pub provisioned: Option<Provenance>,
}

impl Entry {
    /// The entry of a file whose [`model::Head`] is `h`, uid `uid`.
    pub fn from_head(h: model::Head, uid: String, file: PathBuf, from_provider: bool) -> Entry {
        let now = SystemTime::now();
        let mtime = std::fs::metadata(&file)
            .and_then(|m| m.modified())
            .unwrap_or(now);
        Entry {
            uid,
            title: h.title,
            tags: h.tags,
            // A file without one is at its first version.
            version: h.version.unwrap_or(if from_provider { 1 } else { 0 }),
            file,
            from_provider,
            folder_uid: String::new(),
            created: mtime,
            updated: mtime,
            provisioned: None,
        }
    }

    /// The entry of the model `d` (uid set) read from or written to `file`.
    pub fn from_model(d: &Map<String, Value>, file: PathBuf, from_provider: bool) -> Entry {
        let now = SystemTime::now();
        let mtime = std::fs::metadata(&file)
            .and_then(|m| m.modified())
            .unwrap_or(now);
        Entry {
            uid: model::uid(d).unwrap_or("").to_owned(),
            title: model::title(d).to_owned(),
            tags: model::tags(d),
            version: model::version(d),
            file,
            from_provider,
            folder_uid: String::new(),
            created: mtime,
            updated: mtime,
            provisioned: None,
        }
    }

    /// The dashboard's uid.
    pub fn uid(&self) -> &str {
        &self.uid
    }
    /// The dashboard's title.
    pub fn title(&self) -> &str {
        &self.title
    }
    /// The dashboard's version.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// The dashboard's model, read from its file as it was loaded:
    /// migrated, with its uid (and, from a provider, `__inputs` resolved).
    pub fn read(&self) -> Result<Map<String, Value>> {
        let name = self.file.display().to_string();
        let bytes = std::fs::read(&self.file).map_err(|e| Error::io("read", &self.file, e))?;
        let v: Value = model::parse(&bytes, &name)?;
        let mut d = model::check_dashboard(v, &name)?;
        if self.from_provider && d.contains_key("__inputs") {
            // Exports for sharing name their data source `${DS_...}`:
            // Grafana's provisioning leaves those broken; here they mean
            // ours.
            if let Err(e) = super::api::resolve_inputs(&mut d, &[]) {
                tracing::warn!(file = %name, error = %e, "dashboard inputs left unresolved");
            }
        }
        migrate::migrate(&mut d);
        d.insert("uid".into(), Value::String(self.uid.clone()));
        d.entry("version").or_insert(Value::from(self.version));
        Ok(d)
    }
}

/// A folder.
#[derive(Debug, Clone)]
pub struct Folder {
    /// Its uid (the directory's name).
    pub uid: String,
    /// Its title.
    pub title: String,
}

/// A dashboard as the API shows it: its model, its entry and the numbers
/// and names that go with it.
#[derive(Debug, Clone)]
pub struct View {
    /// The model.
    pub dashboard: Map<String, Value>,
    /// The dashboard.
    pub entry: Entry,
    /// Its numeric id (stable while the server runs).
    pub id: i64,
    /// Its folder's title; empty for General.
    pub folder_title: String,
    /// Its folder's numeric id; 0 for General.
    pub folder_id: i64,
}

/// A dashboard as search lists it.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Numeric id (stable while the server runs).
    pub id: i64,
    /// The uid.
    pub uid: String,
    /// The title.
    pub title: String,
    /// The tags.
    pub tags: Vec<String>,
    /// The folder's uid; empty for General.
    pub folder_uid: String,
    /// The folder's title; empty for General.
    pub folder_title: String,
    /// The folder's numeric id; 0 for General.
    pub folder_id: i64,
}

/// What a successful save answers.
#[derive(Debug, Clone)]
pub struct Saved {
    /// Numeric id.
    pub id: i64,
    /// The uid (assigned when the dashboard had none).
    pub uid: String,
    /// The new version.
    pub version: i64,
    /// Slug of the title.
    pub slug: String,
    /// The title.
    pub title: String,
    /// The folder's uid.
    pub folder_uid: String,
}

/// Dashboards and folders read from providers, ready to replace the
/// previous set in one step.
#[derive(Debug, Default, Clone)]
pub struct ProvisionedSet {
    /// The dashboards.
    pub dashboards: Vec<Entry>,
    /// The folders they are in.
    pub folders: Vec<Folder>,
    /// Files that could not be read (file: reason), also logged.
    pub errors: Vec<String>,
}

#[derive(Debug, Default)]
struct Inner {
    stored: BTreeMap<String, Entry>,
    provisioned: BTreeMap<String, Entry>,
    folders: BTreeMap<String, Folder>,
    prov_folders: BTreeMap<String, Folder>,
    prov_errors: Vec<String>,
    ids: HashMap<String, i64>,
    next_id: i64,
}

impl Inner {
    fn id(&mut self, uid: &str) -> i64 {
        if let Some(id) = self.ids.get(uid) {
            return *id;
        }
        self.next_id += 1;
        self.ids.insert(uid.to_owned(), self.next_id);
        self.next_id
    }

    /// The dashboard shown for `uid` (a UI save of a provisioned one wins
    /// until the provider's file is newer) and its provenance, if a
    /// provider owns the uid. Borrowed: listing and checks clone nothing.
    fn winner(&self, uid: &str) -> Option<(&Entry, Option<&Provenance>)> {
        match (self.stored.get(uid), self.provisioned.get(uid)) {
            (Some(s), Some(p)) if s.updated >= p.updated => Some((s, p.provisioned.as_ref())),
            (_, Some(p)) => Some((p, p.provisioned.as_ref())),
            (Some(s), None) => Some((s, None)),
            (None, None) => None,
        }
    }

    fn effective(&self, uid: &str) -> Option<Entry> {
        self.winner(uid).map(|(e, prov)| {
            let mut e = e.clone();
            e.provisioned = prov.cloned();
            e
        })
    }

    fn uids(&self) -> Vec<String> {
        let mut u: Vec<String> = self.stored.keys().cloned().collect();
        u.extend(
            self.provisioned
                .keys()
                .filter(|k| !self.stored.contains_key(*k))
                .cloned(),
        );
        u
    }

    fn folder(&self, uid: &str) -> Option<&Folder> {
        self.folders.get(uid).or_else(|| self.prov_folders.get(uid))
    }

    /// The title and numeric id of the folder `uid` ("" and 0: General).
    fn folder_info(&mut self, uid: &str) -> (String, i64) {
        if uid.is_empty() {
            return (String::new(), 0);
        }
        let t = self
            .folder(uid)
            .map(|f| f.title.clone())
            .unwrap_or_else(|| uid.to_owned());
        (t, self.id(&format!("folder/{uid}")))
    }

    fn view(&mut self, entry: Entry, dashboard: Map<String, Value>) -> View {
        let id = self.id(entry.uid());
        let (folder_title, folder_id) = self.folder_info(&entry.folder_uid);
        View {
            dashboard,
            entry,
            id,
            folder_title,
            folder_id,
        }
    }
}

/// The dashboards store. Reads take a shared lock; saves and deletes write
/// their file under the exclusive lock, so two saves of one dashboard are
/// ordered and the version check sees the latest.
#[derive(Debug)]
pub struct DashboardStore {
    root: PathBuf,
    inner: RwLock<Inner>,
}

impl DashboardStore {
    /// Opens `<data_dir>/dashboards`, creating it, and loads every stored
    /// dashboard. A file that does not parse is logged with its name and
    /// set aside as `<uid>.json.corrupted`, never removed.
    pub fn open(data_dir: &Path) -> Result<DashboardStore> {
        let root = data_dir.join("dashboards");
        std::fs::create_dir_all(&root).map_err(|e| Error::io("create dir", &root, e))?;
        let mut inner = Inner::default();
        let rd = std::fs::read_dir(&root).map_err(|e| Error::io("read dir", &root, e))?;
        let mut dirs: Vec<PathBuf> = rd
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path())
            .collect();
        dirs.sort();
        for dir in dirs {
            let name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let folder_uid = if name == GENERAL {
                String::new()
            } else if model::check_uid(&name, "folder").is_ok() {
                let title = read_folder_title(&dir).unwrap_or_else(|| name.clone());
                inner.folders.insert(
                    name.clone(),
                    Folder {
                        uid: name.clone(),
                        title,
                    },
                );
                name
            } else {
                tracing::warn!(dir = %dir.display(), "not a dashboards folder (its name is not a uid); ignored");
                continue;
            };
            load_folder(&dir, &folder_uid, &mut inner)?;
        }
        Ok(DashboardStore {
            root,
            inner: RwLock::new(inner),
        })
    }

    /// The folder stored dashboards are written under.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The dashboard `uid`.
    /// The dashboard `uid`, its model read from its file (outside the
    /// lock: saves need not wait for a big file to parse).
    pub fn get(&self, uid: &str) -> Result<View> {
        let e = self.read().effective(uid).ok_or(Error::DashboardNotFound)?;
        let d = e.read()?;
        Ok(self.write().view(e, d))
    }

    /// Every dashboard's summary, by title.
    pub fn list(&self) -> Vec<Summary> {
        let mut inner = self.write();
        let rows: Vec<(String, String, Vec<String>, String)> = inner
            .uids()
            .iter()
            .filter_map(|u| inner.winner(u))
            .map(|(e, _)| {
                (
                    e.uid.clone(),
                    e.title.clone(),
                    e.tags.clone(),
                    e.folder_uid.clone(),
                )
            })
            .collect();
        let mut out: Vec<Summary> = rows
            .into_iter()
            .map(|(uid, title, tags, folder_uid)| {
                let (folder_title, folder_id) = inner.folder_info(&folder_uid);
                Summary {
                    id: inner.id(&uid),
                    uid,
                    title,
                    tags,
                    folder_uid,
                    folder_title,
                    folder_id,
                }
            })
            .collect();
        out.sort_by_cached_key(|v| (v.title.to_lowercase(), v.uid.clone()));
        out
    }

    /// Every folder (stored and provisioned) with its numeric id, by title.
    pub fn folders(&self) -> Vec<(i64, Folder)> {
        let mut inner = self.write();
        let mut all: BTreeMap<String, Folder> = inner.prov_folders.clone();
        all.extend(inner.folders.clone());
        let mut out: Vec<(i64, Folder)> = all
            .into_values()
            .map(|f| (inner.id(&format!("folder/{}", f.uid)), f))
            .collect();
        out.sort_by_cached_key(|(_, f)| (f.title.to_lowercase(), f.uid.clone()));
        out
    }

    /// The folder `uid` and its numeric id.
    pub fn folder(&self, uid: &str) -> Option<(i64, Folder)> {
        let mut inner = self.write();
        let f = inner.folder(uid).cloned()?;
        Some((inner.id(&format!("folder/{uid}")), f))
    }

    /// Why provisioned files were skipped at the last load.
    pub fn provisioning_errors(&self) -> Vec<String> {
        self.read().prov_errors.clone()
    }

    /// Creates a folder (a directory with its title in `.folder.json`).
    /// Without a uid one is made up.
    pub fn create_folder(&self, uid: Option<&str>, title: &str) -> Result<(i64, Folder)> {
        let title = title.trim();
        if title.is_empty() {
            return Err(Error::BadRequest(
                "title: folder title cannot be empty".into(),
            ));
        }
        let uid = match uid.filter(|u| !u.is_empty()) {
            Some(u) => {
                model::check_uid(u, "uid")?;
                if u == GENERAL {
                    return Err(Error::BadRequest(format!(
                        "uid: {GENERAL:?} is the General folder's, reserved"
                    )));
                }
                u.to_owned()
            }
            None => model::new_uid(),
        };
        let mut inner = self.write();
        if inner.folder(&uid).is_some() {
            return Err(Error::FolderExists(format!(
                "a folder with the uid {uid:?} already exists"
            )));
        }
        let same = |f: &Folder| f.title.eq_ignore_ascii_case(title);
        if inner.folders.values().any(same) || inner.prov_folders.values().any(same) {
            return Err(Error::FolderExists(format!(
                "a folder with the title {title:?} already exists"
            )));
        }
        let folder = Folder {
            uid: uid.clone(),
            title: title.to_owned(),
        };
        self.write_folder(&folder)?;
        inner.folders.insert(uid.clone(), folder.clone());
        let id = inner.id(&format!("folder/{uid}"));
        Ok((id, folder))
    }

    fn write_folder(&self, f: &Folder) -> Result<()> {
        let dir = self.root.join(&f.uid);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create dir", &dir, e))?;
        let body = serde_json::to_vec_pretty(&serde_json::json!({"uid": f.uid, "title": f.title}))
            .unwrap_or_default();
        write_atomic(&dir.join(FOLDER_META), &body)?;
        sightline_storage::dir::sync_dir(&self.root)?;
        Ok(())
    }

    /// Saves `dashboard` into the folder `folder_uid` (empty or `general`
    /// for General), as Grafana's `POST /api/dashboards/db`: a uid is made
    /// up when absent; the version must be the stored one unless
    /// `overwrite`; the title must be unique in the folder unless
    /// `overwrite` (which then replaces the other dashboard).
    pub fn save(
        &self,
        dashboard: Map<String, Value>,
        folder_uid: &str,
        overwrite: bool,
    ) -> Result<Saved> {
        let mut d = model::check_dashboard(Value::Object(dashboard), "dashboard")?;
        migrate::migrate(&mut d);
        let folder_uid = if folder_uid == GENERAL {
            ""
        } else {
            folder_uid
        };
        let mut inner = self.write();
        let folder = if folder_uid.is_empty() {
            None
        } else {
            Some(inner.folder(folder_uid).cloned().ok_or_else(|| {
                Error::BadRequest(format!("folderUid: folder not found: {folder_uid:?}"))
            })?)
        };
        let uid = match model::uid(&d) {
            Some(u) => {
                model::check_uid(u, "dashboard.uid")?;
                u.to_owned()
            }
            // Grafana's older clients name a dashboard by its numeric id.
            None => match d.get("id").and_then(Value::as_i64) {
                Some(id) => inner
                    .ids
                    .iter()
                    .find(|(u, i)| **i == id && !u.starts_with("folder/"))
                    .map(|(u, _)| u.clone())
                    .unwrap_or_else(model::new_uid),
                None => model::new_uid(),
            },
        };
        let existing = inner.effective(&uid);
        if let Some(e) = &existing {
            if e.provisioned.as_ref().is_some_and(|p| !p.allow_ui_updates) {
                return Err(Error::Provisioned);
            }
            if !overwrite && model::version(&d) != e.version() {
                return Err(Error::VersionMismatch);
            }
        }
        let title = model::title(&d).to_owned();
        // Other dashboards of the folder with this title: (uid, provisioned).
        let clash: Vec<(String, bool)> = inner
            .uids()
            .iter()
            .filter(|u| **u != uid)
            .filter_map(|u| inner.winner(u))
            .filter(|(e, _)| e.folder_uid == folder_uid && e.title().eq_ignore_ascii_case(&title))
            .map(|(e, prov)| (e.uid().to_owned(), prov.is_some()))
            .collect();
        if let Some((_, provisioned)) = clash.first() {
            if !overwrite {
                return Err(Error::NameExists);
            }
            if *provisioned {
                return Err(Error::Provisioned);
            }
        }
        let version = existing.as_ref().map_or(0, Entry::version) + 1;
        d.insert("uid".into(), Value::String(uid.clone()));
        d.insert("version".into(), Value::from(version));
        // Numeric ids are per server, as in Grafana's exports.
        d.insert("id".into(), Value::Null);
        // A folder known only from a provider gets its directory now, so a
        // restart without that provider still finds the title.
        if let Some(f) = &folder {
            if !inner.folders.contains_key(&f.uid) {
                self.write_folder(f)?;
                inner.folders.insert(f.uid.clone(), f.clone());
            }
        }
        let body = serde_json::to_vec_pretty(&d).unwrap_or_default();
        let path = self.file(folder_uid, &uid);
        if let Some(dir) = path.parent() {
            if !dir.exists() {
                std::fs::create_dir_all(dir).map_err(|e| Error::io("create dir", dir, e))?;
                sightline_storage::dir::sync_dir(&self.root)?;
            }
        }
        write_atomic(&path, &body)?;
        // Moved between folders: the old file goes once the new one is safe.
        if let Some(old) = inner.stored.get(&uid) {
            if old.folder_uid != folder_uid {
                remove_file(&self.file(&old.folder_uid, &uid))?;
            }
        }
        for (other, _) in clash {
            remove_file(&self.file(folder_uid, &other))?;
            inner.stored.remove(&other);
        }
        let now = SystemTime::now();
        let mut entry = Entry::from_model(&d, path, false);
        entry.folder_uid = folder_uid.to_owned();
        entry.created = existing.as_ref().map_or(now, |e| e.created);
        // The clock, not the file's time: a provider's file is newer than
        // this save only if it changes after it.
        entry.updated = now;
        inner.stored.insert(uid.clone(), entry);
        let id = inner.id(&uid);
        Ok(Saved {
            id,
            uid,
            version,
            slug: slugify(&title),
            title,
            folder_uid: folder_uid.to_owned(),
        })
    }

    /// Deletes the stored dashboard `uid`; returns its numeric id and
    /// entry.
    pub fn delete(&self, uid: &str) -> Result<(i64, Entry)> {
        let mut inner = self.write();
        let e = inner.effective(uid).ok_or(Error::DashboardNotFound)?;
        if e.provisioned.is_some() {
            return Err(Error::ProvisionedDelete);
        }
        remove_file(&self.file(&e.folder_uid, uid))?;
        inner.stored.remove(uid);
        Ok((inner.id(uid), e))
    }

    /// Renames the folder `uid` (its `.folder.json`); titles stay unique.
    pub fn rename_folder(&self, uid: &str, title: &str) -> Result<(i64, Folder)> {
        let title = title.trim();
        if title.is_empty() {
            return Err(Error::BadRequest(
                "title: folder title cannot be empty".into(),
            ));
        }
        let mut inner = self.write();
        if !inner.folders.contains_key(uid) {
            return Err(match inner.prov_folders.contains_key(uid) {
                true => Error::BadRequest(format!(
                    "folder {uid:?} is provisioned: rename it in its provider"
                )),
                false => Error::FolderNotFound(uid.to_owned()),
            });
        }
        let same = |f: &Folder| f.uid != uid && f.title.eq_ignore_ascii_case(title);
        if inner.folders.values().any(same) || inner.prov_folders.values().any(same) {
            return Err(Error::FolderExists(format!(
                "a folder with the title {title:?} already exists"
            )));
        }
        let folder = Folder {
            uid: uid.to_owned(),
            title: title.to_owned(),
        };
        self.write_folder(&folder)?;
        inner.folders.insert(uid.to_owned(), folder.clone());
        let id = inner.id(&format!("folder/{uid}"));
        Ok((id, folder))
    }

    /// Every tag and how many dashboards carry it, by tag.
    pub fn tags(&self) -> Vec<(String, usize)> {
        let inner = self.read();
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for u in inner.uids() {
            if let Some((e, _)) = inner.winner(&u) {
                for t in &e.tags {
                    *counts.entry(t.clone()).or_default() += 1;
                }
            }
        }
        counts.into_iter().collect()
    }

    /// Deletes the folder `uid` and the dashboards stored in it, as
    /// Grafana does. A folder a provider fills (or holding a provisioned
    /// dashboard) is refused: its provider would bring it back.
    pub fn delete_folder(&self, uid: &str) -> Result<(i64, Folder, usize)> {
        let mut inner = self.write();
        let folder = inner
            .folders
            .get(uid)
            .cloned()
            .ok_or_else(|| Error::FolderNotFound(uid.to_owned()))?;
        let provisioned = inner.prov_folders.contains_key(uid)
            || inner.provisioned.values().any(|e| e.folder_uid == uid);
        if provisioned {
            return Err(Error::BadRequest(format!(
                "folder {uid:?} holds provisioned dashboards; remove them from their provider"
            )));
        }
        let gone: Vec<String> = inner
            .stored
            .values()
            .filter(|e| e.folder_uid == uid)
            .map(|e| e.uid().to_owned())
            .collect();
        let dir = self.root.join(uid);
        // Dashboards first, the title last: a crash in between leaves a
        // folder, never dashboards without one.
        for d in &gone {
            remove_file(&dir.join(format!("{d}.json")))?;
            inner.stored.remove(d);
        }
        remove_file(&dir.join(FOLDER_META))?;
        match std::fs::remove_dir(&dir) {
            Ok(()) => sightline_storage::dir::sync_dir(&self.root)?,
            // Something else lives there (a corrupt dashboard kept for
            // repair): the directory stays, a folder named after it.
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "folder directory not removed")
            }
        }
        inner.folders.remove(uid);
        let id = inner.id(&format!("folder/{uid}"));
        Ok((id, folder, gone.len()))
    }

    /// Replaces the provisioned dashboards and folders with `set`.
    pub fn set_provisioned(&self, set: ProvisionedSet) {
        let mut inner = self.write();
        inner.provisioned = set
            .dashboards
            .into_iter()
            .map(|e| (e.uid().to_owned(), e))
            .collect();
        inner.prov_folders = set
            .folders
            .into_iter()
            .map(|f| (f.uid.clone(), f))
            .collect();
        inner.prov_errors = set.errors;
    }

    fn file(&self, folder_uid: &str, uid: &str) -> PathBuf {
        let dir = if folder_uid.is_empty() {
            GENERAL
        } else {
            folder_uid
        };
        self.root.join(dir).join(format!("{uid}.json"))
    }
}

mod disk;
#[cfg(test)]
mod tests;

use disk::{load_folder, read_folder_title, remove_file, write_atomic};
