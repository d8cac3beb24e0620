//! The registry of names: who holds which name, and in what order they were taken.
//!
//! One read-mostly lock. Routing a message (the hot path) takes it shared and appends the
//! delivery to the recipient's queue while holding it, so no reference count is touched per
//! message; taking and releasing a name take it exclusively, which is what makes a name unique
//! under races (NAME-6): the check and the insert are one step.
//!
//! Registration order (NAMES-1, NAMES-4) is a sequence number per registration, kept in a
//! `BTreeMap` beside the hash map so that `GET_NAMES` walks names oldest first without sorting.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::protocol::{Name, NameList};

use super::outbox::Peer;

/// Who holds the names.
#[derive(Default)]
pub(crate) struct Registry {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    by_name: HashMap<Name, Entry>,
    /// Registration sequence number to name: the order of `GET_NAMES`.
    order: BTreeMap<u64, Name>,
    next_seq: u64,
}

struct Entry {
    /// The connection holding the name.
    conn: u64,
    seq: u64,
    peer: Arc<Peer>,
}

/// `NAME` for a name that another connection holds (NAME-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Taken;

impl Registry {
    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        // Nothing panics while holding the lock; a poisoned lock still holds consistent data.
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Gives `name` to connection `conn` unless someone holds it: check and insert under one
    /// exclusive lock (NAME-6).
    pub(crate) fn register(&self, name: &Name, conn: u64, peer: &Arc<Peer>) -> Result<(), Taken> {
        let mut inner = self.write();
        if inner.by_name.contains_key(name.as_str()) {
            return Err(Taken);
        }
        inner.insert(name, conn, peer);
        Ok(())
    }

    /// Releases `name` if connection `conn` holds it (NAME-7). Answers whether it did.
    pub(crate) fn release(&self, name: &str, conn: u64) -> bool {
        let mut inner = self.write();
        match inner.by_name.get(name) {
            Some(entry) if entry.conn == conn => {
                let seq = entry.seq;
                inner.by_name.remove(name);
                inner.order.remove(&seq);
                true
            }
            _ => false,
        }
    }

    /// Runs `f` on the connection holding `name`, under the shared lock; `None` when nobody
    /// holds it.
    pub(crate) fn with_holder<R>(&self, name: &str, f: impl FnOnce(&Peer) -> R) -> Option<R> {
        let inner = self.read();
        inner.by_name.get(name).map(|entry| f(&entry.peer))
    }

    /// The names in registration order, made to fit `max` bytes (NAMES-1, NAMES-5).
    pub(crate) fn list(&self, max: usize) -> NameList {
        NameList::fit(self.read().order.values(), max)
    }
}

impl Inner {
    fn insert(&mut self, name: &Name, conn: u64, peer: &Arc<Peer>) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.order.insert(seq, name.clone());
        self.by_name.insert(
            name.clone(),
            Entry {
                conn,
                seq,
                peer: Arc::clone(peer),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    fn shown(list: &NameList) -> Vec<&str> {
        list.names().iter().map(Name::as_str).collect()
    }

    #[test]
    fn a_name_is_held_once_and_freed_only_by_its_holder() {
        let reg = Registry::default();
        let peer = super::super::outbox::test_budget(0, 0, 0).join(1);
        assert_eq!(reg.register(&name("A"), 1, &peer), Ok(()));
        assert_eq!(reg.register(&name("A"), 2, &peer), Err(Taken));
        assert!(!reg.release("A", 2));
        assert!(reg.release("A", 1));
        assert!(!reg.release("A", 1));
        assert_eq!(reg.register(&name("A"), 2, &peer), Ok(()));
    }

    #[test]
    fn names_list_in_registration_order_and_a_retaken_name_goes_last() {
        let reg = Registry::default();
        let peer = super::super::outbox::test_budget(0, 0, 0).join(1);
        for (i, n) in ["Bob", "Alice", "Carol"].into_iter().enumerate() {
            reg.register(&name(n), i as u64, &peer).unwrap();
        }
        assert_eq!(shown(&reg.list(100)), ["Bob", "Alice", "Carol"]);
        assert!(reg.release("Bob", 0));
        reg.register(&name("Bob"), 7, &peer).unwrap();
        assert_eq!(shown(&reg.list(100)), ["Alice", "Carol", "Bob"]);
        let cut = reg.list(12);
        assert_eq!((shown(&cut), cut.omitted()), (vec!["Alice"], 2));
    }
}
