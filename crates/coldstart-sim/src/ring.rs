//! A function's pods in the order spread routing sends them requests. The pods stay where
//! they were made, in slots; the order is a `VecDeque` of slot numbers, so sending a pod to
//! the back (what almost every request of a busy function does) moves four bytes, not the
//! pod, and adding or removing a pod shifts slot numbers on the shorter side. Moving the pods
//! themselves (144 bytes each) was most of the engine's time on workloads with bursts, where a
//! function holds hundreds of pods.
//!
//! The ring also remembers a *held front*: its owner may say that the first `n` items cannot
//! be used before some time (pods serving as many requests as they take), so the next search
//! starts behind them. Any change at or before an index shortens the held front to it, so the
//! owner's word is never kept for items that changed.

use std::collections::VecDeque;

/// Items in logical order `0..len`: item `i` lives in slot `order[i]`.
#[derive(Debug, Clone)]
pub(crate) struct Ring<T> {
    slots: Vec<Option<T>>,
    /// Slots without an item, to be filled first.
    free: Vec<u32>,
    order: VecDeque<u32>,
    /// The first `held` items are unchanged since the owner said they are of no use before
    /// `held_until`.
    held: usize,
    held_until: f64,
}

impl<T> Default for Ring<T> {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            order: VecDeque::new(),
            held: 0,
            held_until: f64::NEG_INFINITY,
        }
    }
}

impl<T> Ring<T> {
    /// How many items at the front are still held at `t`, and until when (none, until
    /// infinity, where the hold has run out or none was made).
    pub fn held_front(&self, t: f64) -> (usize, f64) {
        if t < self.held_until {
            (self.held, self.held_until)
        } else {
            (0, f64::INFINITY)
        }
    }

    /// The first `n` items are of no use before `until` (the owner's word, kept until one of
    /// them changes).
    pub fn hold_front(&mut self, n: usize, until: f64) {
        debug_assert!(n <= self.len());
        self.held = n;
        self.held_until = until;
    }

    /// Item `i` or a later one may change: the hold keeps only the items before it.
    fn release_from(&mut self, i: usize) {
        self.held = self.held.min(i);
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    fn slot(&self, i: usize) -> usize {
        assert!(i < self.len(), "ring index {i} out of {}", self.len());
        self.order[i] as usize
    }

    pub fn get(&self, i: usize) -> &T {
        self.slots[self.slot(i)].as_ref().expect("a live slot")
    }

    pub fn get_mut(&mut self, i: usize) -> &mut T {
        self.release_from(i);
        let s = self.slot(i);
        self.slots[s].as_mut().expect("a live slot")
    }

    /// Item `i` becomes the back one, the others keeping their order.
    pub fn move_to_back(&mut self, i: usize) {
        self.release_from(i);
        if i == 0 {
            let s = self.order.pop_front().expect("a non-empty ring");
            self.order.push_back(s);
        } else {
            let s = self.order.remove(i).expect("ring index in range");
            self.order.push_back(s);
        }
    }

    /// Stores `x` in a free slot, handing back its number.
    fn store(&mut self, x: T) -> u32 {
        match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(x);
                s
            }
            None => {
                self.slots.push(Some(x));
                u32::try_from(self.slots.len() - 1).expect("fewer than 2^32 items")
            }
        }
    }

    /// Empties slot `s`, handing back its item.
    fn unstore(&mut self, s: u32) -> T {
        let x = self.slots[s as usize].take().expect("a live slot");
        if self.order.is_empty() {
            // Nothing left: the slots go too (a function idle for long holds no memory).
            self.slots.clear();
            self.free.clear();
        } else {
            self.free.push(s);
        }
        x
    }

    pub fn push_back(&mut self, x: T) {
        let s = self.store(x);
        self.order.push_back(s);
    }

    /// Inserts `x` at logical place `i` (`i == len` is the back).
    pub fn insert(&mut self, i: usize, x: T) {
        assert!(i <= self.len(), "ring index {i} past {}", self.len());
        self.release_from(i);
        let s = self.store(x);
        self.order.insert(i, s);
    }

    pub fn remove(&mut self, i: usize) -> T {
        self.release_from(i);
        let s = self.slot(i);
        self.order.remove(i);
        self.unstore(s as u32)
    }

    /// Removes item `i`, the back item taking its place (where order does not matter, as off
    /// the spread-routing fast path).
    pub fn swap_remove(&mut self, i: usize) -> T {
        self.release_from(i);
        let s = self.slot(i);
        self.order.swap_remove_back(i);
        self.unstore(s as u32)
    }

    /// In logical order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.order
            .iter()
            .map(|&s| self.slots[s as usize].as_ref().expect("a live slot"))
    }

    /// Empties the ring, handing back its items in logical order.
    pub fn take_all(&mut self) -> impl Iterator<Item = T> {
        self.release_from(0);
        let mut slots = std::mem::take(&mut self.slots);
        self.free.clear();
        std::mem::take(&mut self.order)
            .into_iter()
            .map(move |s| slots[s as usize].take().expect("a live slot"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    #[derive(Debug, Clone)]
    enum Op {
        ToBack(usize),
        Push,
        Insert(usize),
        Remove(usize),
        SwapRemove(usize),
        Set(usize),
        Hold(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => Just(Op::ToBack(0)),
            2 => (0usize..8).prop_map(Op::ToBack),
            2 => Just(Op::Push),
            1 => (0usize..8).prop_map(Op::Insert),
            1 => (0usize..8).prop_map(Op::Remove),
            1 => (0usize..8).prop_map(Op::SwapRemove),
            1 => (0usize..8).prop_map(Op::Set),
            1 => (0usize..8).prop_map(Op::Hold),
        ]
    }

    proptest! {
        /// Every operation leaves the same items in the same order as `VecDeque` doing it,
        /// and the held front only ever covers items unchanged since the hold.
        #[test]
        fn a_ring_keeps_the_order_a_deque_keeps(ops in prop::collection::vec(op(), 0..200)) {
            let mut ring = Ring::default();
            let mut deque = VecDeque::new();
            let mut held: Vec<usize> = Vec::new();
            for (n, o) in ops.into_iter().enumerate() {
                match o {
                    Op::ToBack(i) if !deque.is_empty() => {
                        let i = i % deque.len();
                        ring.move_to_back(i);
                        let x = deque.remove(i).unwrap();
                        deque.push_back(x);
                    }
                    Op::Push => {
                        ring.push_back(n);
                        deque.push_back(n);
                    }
                    Op::Insert(i) => {
                        let i = i.min(deque.len());
                        ring.insert(i, n);
                        deque.insert(i, n);
                    }
                    Op::Remove(i) if !deque.is_empty() => {
                        let i = i % deque.len();
                        prop_assert_eq!(ring.remove(i), deque.remove(i).unwrap());
                    }
                    Op::SwapRemove(i) if !deque.is_empty() => {
                        let i = i % deque.len();
                        prop_assert_eq!(ring.swap_remove(i), deque.swap_remove_back(i).unwrap());
                    }
                    Op::Set(i) if !deque.is_empty() => {
                        let i = i % deque.len();
                        *ring.get_mut(i) = n;
                        deque[i] = n;
                    }
                    Op::Hold(n) => {
                        let n = n.min(deque.len());
                        ring.hold_front(n, 1.0);
                        held = deque.iter().take(n).copied().collect();
                    }
                    _ => {}
                }
                let (h, until) = ring.held_front(0.5);
                prop_assert!(h <= held.len() && h <= deque.len());
                prop_assert!(h == 0 || until == 1.0);
                prop_assert!(deque.iter().take(h).eq(held.iter().take(h)));
                prop_assert_eq!(ring.held_front(1.0).0, 0);
                prop_assert_eq!(ring.len(), deque.len());
                prop_assert!(ring.iter().eq(deque.iter()));
                for (i, x) in deque.iter().enumerate() {
                    prop_assert_eq!(ring.get(i), x);
                }
            }
            prop_assert!(ring.take_all().eq(deque));
        }
    }
}
