//! The metadata database: `DATA_ROOT/berth.db`, a redb file with one table mapping container
//! IDs to their [`ContainerRecord`] as JSON.
//!
//! Why redb: pure Rust, ACID transactions with copy-on-write commits (a crash leaves the last
//! committed state), and one file. Every state change of a container is one write
//! transaction that is durable when `put` returns, so a daemon killed at any point restarts
//! from records that were true at some moment. JSON values keep the file readable by a
//! future version (and by a human with a small export tool).

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::error::{EngineError, Result};
use crate::model::ContainerRecord;

const CONTAINERS: TableDefinition<&str, &[u8]> = TableDefinition::new("containers");

fn db_err(e: impl std::fmt::Display) -> EngineError {
    EngineError::Db(e.to_string())
}

/// The container records.
#[derive(Debug)]
pub struct Store {
    pub(crate) db: Database,
}

impl Store {
    /// Opens (creating) the database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let db = Database::create(path).map_err(db_err)?;
        let txn = db.begin_write().map_err(db_err)?;
        txn.open_table(CONTAINERS).map_err(db_err)?;
        txn.commit().map_err(db_err)?;
        Ok(Self { db })
    }

    /// Every record.
    pub fn load_all(&self) -> Result<Vec<ContainerRecord>> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(CONTAINERS).map_err(db_err)?;
        let mut out = Vec::new();
        for row in table.iter().map_err(db_err)? {
            let (k, v) = row.map_err(db_err)?;
            let rec: ContainerRecord = serde_json::from_slice(v.value())
                .map_err(|e| EngineError::Record(k.value().to_owned(), e))?;
            out.push(rec);
        }
        Ok(out)
    }

    /// Writes (inserts or replaces) a record; durable on return.
    pub fn put(&self, rec: &ContainerRecord) -> Result<()> {
        let json = serde_json::to_vec(rec).map_err(|e| EngineError::Record(rec.id.clone(), e))?;
        let txn = self.db.begin_write().map_err(db_err)?;
        {
            let mut table = txn.open_table(CONTAINERS).map_err(db_err)?;
            table
                .insert(rec.id.as_str(), json.as_slice())
                .map_err(db_err)?;
        }
        txn.commit().map_err(db_err)
    }

    /// Deletes a record; not an error when absent.
    pub fn delete(&self, id: &str) -> Result<()> {
        let txn = self.db.begin_write().map_err(db_err)?;
        {
            let mut table = txn.open_table(CONTAINERS).map_err(db_err)?;
            table.remove(id).map_err(db_err)?;
        }
        txn.commit().map_err(db_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{StateRecord, Status};

    fn rec(id: &str) -> ContainerRecord {
        ContainerRecord {
            id: id.into(),
            name: format!("/{id}"),
            created: "2026-11-30T15:00:00.000000000Z".into(),
            image_name: "busybox".into(),
            image_id: "sha256:00".into(),
            lowers: vec![],
            path: "sh".into(),
            args: vec![],
            config: Default::default(),
            host_config: Default::default(),
            state: StateRecord::default(),
            restart_count: 0,
            driver: "overlay2".into(),
            generation: 0,
            manually_stopped: false,
            mounts: Vec::new(),
        }
    }

    #[test]
    fn records_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("berth.db");
        {
            let s = Store::open(&p).unwrap();
            s.put(&rec("a")).unwrap();
            let mut b = rec("b");
            b.state.status = Status::Running;
            s.put(&b).unwrap();
            s.put(&rec("c")).unwrap();
            s.delete("c").unwrap();
            s.delete("nope").unwrap();
        }
        let s = Store::open(&p).unwrap();
        let all = s.load_all().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].state.status, Status::Running);
    }
}
