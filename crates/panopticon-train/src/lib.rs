//! Panopticon self-supervised pre-training (DINO + iBOT + KoLeo, EMA teacher) on Burn
//! (in progress).
