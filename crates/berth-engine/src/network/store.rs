//! The network tables in the engine's redb file: JSON values by string key.

use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{EngineError, Result};
use crate::store::Store;

type Table = TableDefinition<'static, &'static str, &'static [u8]>;

/// Network ID → `NetRecord`.
pub(crate) const NETWORKS: Table = TableDefinition::new("networks");
/// Container ID → `ContainerNet`.
pub(crate) const ENDPOINTS: Table = TableDefinition::new("endpoints");
/// `host`/`none` → ID.
pub(crate) const BUILTIN: Table = TableDefinition::new("builtin_networks");

fn db_err(e: impl std::fmt::Display) -> EngineError {
    EngineError::Db(e.to_string())
}

pub(crate) fn load_all_keyed<T: DeserializeOwned>(
    store: &Store,
    table: Table,
) -> Result<Vec<(String, T)>> {
    let txn = store.db.begin_read().map_err(db_err)?;
    let t = match txn.open_table(table) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(db_err(e)),
    };
    let mut out = Vec::new();
    for row in t.iter().map_err(db_err)? {
        let (k, v) = row.map_err(db_err)?;
        let val = serde_json::from_slice(v.value())
            .map_err(|e| EngineError::Record(k.value().to_owned(), e))?;
        out.push((k.value().to_owned(), val));
    }
    Ok(out)
}

pub(crate) fn load_all<T: DeserializeOwned>(store: &Store, table: Table) -> Result<Vec<T>> {
    Ok(load_all_keyed(store, table)?
        .into_iter()
        .map(|(_, v)| v)
        .collect())
}

pub(crate) fn put<T: Serialize>(store: &Store, table: Table, key: &str, val: &T) -> Result<()> {
    let json = serde_json::to_vec(val).map_err(|e| EngineError::Record(key.to_owned(), e))?;
    let txn = store.db.begin_write().map_err(db_err)?;
    {
        let mut t = txn.open_table(table).map_err(db_err)?;
        t.insert(key, json.as_slice()).map_err(db_err)?;
    }
    txn.commit().map_err(db_err)
}

pub(crate) fn delete(store: &Store, table: Table, key: &str) -> Result<()> {
    let txn = store.db.begin_write().map_err(db_err)?;
    {
        let mut t = txn.open_table(table).map_err(db_err)?;
        t.remove(key).map_err(db_err)?;
    }
    txn.commit().map_err(db_err)
}
