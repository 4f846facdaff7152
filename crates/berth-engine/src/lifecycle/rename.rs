//! `rename`: a new name for a container, checked and reserved under the table lock.

use crate::error::{EngineError, Result};
use crate::names;
use crate::table::Engine;

impl Engine {
    /// `POST /containers/{id}/rename?name=`.
    pub async fn rename(&self, name: &str, new_name: &str) -> Result<()> {
        if new_name.trim_start_matches('/').is_empty() {
            return Err(EngineError::Invalid(
                "Neither old nor new names may be empty".into(),
            ));
        }
        let c = self.lookup(name)?;
        let new = names::validate(new_name)?;
        let old = c.record().name;
        {
            let mut t = self.table();
            match t.names.get(&new) {
                Some(id) if *id == c.id => {
                    return Err(EngineError::Invalid(
                        "Renaming a container with the same name as its current name".into(),
                    ));
                }
                Some(id) => {
                    return Err(EngineError::NameInUse {
                        name: new,
                        id: id.clone(),
                    });
                }
                None => {}
            }
            t.names.insert(new.clone(), c.id.clone());
        }
        let saved = self.save(&c, |r| r.name = new.clone());
        let mut t = self.table();
        match saved {
            Ok(rec) => {
                if t.names.get(&old) == Some(&c.id) {
                    t.names.remove(&old);
                }
                drop(t);
                self.emit(&rec, "rename", &[("oldName", old)]);
                Ok(())
            }
            Err(e) => {
                t.names.remove(&new);
                Err(e)
            }
        }
    }
}
