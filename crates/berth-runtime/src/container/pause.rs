//! `pause` and `resume`: freeze and thaw the container's cgroup; a marker file in the state
//! directory makes the status read `paused`.

use super::Container;
use crate::error::Error;
use crate::state::Status;

impl Container {
    /// Freeze every process of the container.
    pub fn pause(&self) -> Result<(), Error> {
        self.require(&[Status::Running, Status::Created], "running or created")?;
        self.cgroup()?.freeze()?;
        crate::state::set_paused(&self.dir, true)?;
        Ok(())
    }

    /// Thaw a paused container.
    pub fn resume(&self) -> Result<(), Error> {
        self.require(&[Status::Paused], "paused")?;
        self.cgroup()?.thaw()?;
        crate::state::set_paused(&self.dir, false)?;
        Ok(())
    }
}
