//! Tests of the head's id layout.

use super::*;

#[test]
fn stripe_and_slot_map_ids_one_to_one_in_runs() {
    let mut seen = foldhash::HashSet::default();
    for id in (0..300_000u32).chain([u32::MAX - 1, u32::MAX]) {
        let (stripe, slot) = (stripe_of(id), slot_of(id));
        assert!(stripe < STRIPES);
        assert_eq!(id_of(stripe, slot), id, "id {id}");
        assert!(seen.insert((stripe, slot)), "id {id} shares a slot");
    }
    // Neighbours share a stripe and sit in adjacent slots.
    assert_eq!(stripe_of(128), stripe_of(191));
    assert_eq!(slot_of(129), slot_of(128) + 1);
    assert_ne!(stripe_of(191), stripe_of(192));
}
