//! A function's pods in the order spread routing sends them requests: a ring over a `Vec`
//! that is always full, so sending the front pod to the back (what almost every request of a
//! busy function does) moves the ring's head, not the pod. `VecDeque` would copy the pod out
//! and back in (a `pop_front` and a `push_back`), which is most of the engine's time.
//! Adding and removing pods (cold starts and expiries) shift the `Vec`, as `VecDeque` would.

/// Items in logical order `0..len`, item `i` stored at `(head + i) % len`.
#[derive(Debug, Clone)]
pub(crate) struct Ring<T> {
    items: Vec<T>,
    head: usize,
}

impl<T> Default for Ring<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            head: 0,
        }
    }
}

impl<T> Ring<T> {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    fn physical(&self, i: usize) -> usize {
        let p = self.head + i;
        if p >= self.items.len() {
            p - self.items.len()
        } else {
            p
        }
    }

    pub fn get(&self, i: usize) -> &T {
        assert!(i < self.len(), "ring index {i} out of {}", self.len());
        &self.items[self.physical(i)]
    }

    pub fn get_mut(&mut self, i: usize) -> &mut T {
        assert!(i < self.len(), "ring index {i} out of {}", self.len());
        let p = self.physical(i);
        &mut self.items[p]
    }

    /// The front item becomes the back one; the others move up one place.
    pub fn rotate(&mut self) {
        if !self.items.is_empty() {
            self.head = self.physical(1);
        }
    }

    pub fn push_back(&mut self, x: T) {
        // The back is just before the head.
        self.items.insert(self.head, x);
        if self.items.len() > 1 {
            self.head += 1;
        }
    }

    /// Inserts `x` at logical place `i` (`i == len` is the back).
    pub fn insert(&mut self, i: usize, x: T) {
        assert!(i <= self.len(), "ring index {i} past {}", self.len());
        if i == self.len() {
            return self.push_back(x);
        }
        let p = self.physical(i);
        self.items.insert(p, x);
        // Place 0 is the head itself: the new item takes it there.
        if p < self.head {
            self.head += 1;
        }
    }

    pub fn remove(&mut self, i: usize) -> T {
        assert!(i < self.len(), "ring index {i} out of {}", self.len());
        let p = self.physical(i);
        let x = self.items.remove(p);
        if p < self.head {
            self.head -= 1;
        }
        if self.head >= self.items.len() {
            self.head = 0;
        }
        x
    }

    /// Removes item `i`, the back item taking its place: O(1) while the ring has not rotated
    /// (where order does not matter, as off the spread-routing fast path).
    pub fn swap_remove(&mut self, i: usize) -> T {
        let last = self.len().checked_sub(1).expect("a non-empty ring");
        assert!(i <= last, "ring index {i} out of {}", self.len());
        let (p, q) = (self.physical(i), self.physical(last));
        self.items.swap(p, q);
        self.remove(last)
    }

    /// In logical order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        let (a, b) = self.items.split_at(self.head);
        b.iter().chain(a)
    }

    /// Empties the ring, handing back its items in logical order.
    pub fn take_all(&mut self) -> impl Iterator<Item = T> {
        let mut items = std::mem::take(&mut self.items);
        items.rotate_left(std::mem::take(&mut self.head));
        items.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    #[derive(Debug, Clone)]
    enum Op {
        Rotate,
        Push,
        Insert(usize),
        Remove(usize),
        SwapRemove(usize),
        Set(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => Just(Op::Rotate),
            2 => Just(Op::Push),
            1 => (0usize..8).prop_map(Op::Insert),
            1 => (0usize..8).prop_map(Op::Remove),
            1 => (0usize..8).prop_map(Op::SwapRemove),
            1 => (0usize..8).prop_map(Op::Set),
        ]
    }

    proptest! {
        /// Every operation leaves the same items in the same order as `VecDeque` doing it.
        #[test]
        fn a_ring_keeps_the_order_a_deque_keeps(ops in prop::collection::vec(op(), 0..200)) {
            let mut ring = Ring::default();
            let mut deque = VecDeque::new();
            for (n, o) in ops.into_iter().enumerate() {
                match o {
                    Op::Rotate => {
                        ring.rotate();
                        deque.rotate_left(usize::from(!deque.is_empty()));
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
                    _ => {}
                }
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
