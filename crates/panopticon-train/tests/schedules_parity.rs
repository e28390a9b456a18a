//! Cosine schedules against upstream `CosineScheduler` (numpy f64). Tolerance: 1e-12 relative
//! (same formula, same operation order).

mod common;

use common::*;
use panopticon_train::{CosineSchedule, Phases, ScheduleConfig, Schedules};

#[test]
fn small_schedule_with_freeze_warmup_hold_matches_numpy() {
    let f = fixture("schedules.json");
    let s = &f["small"];
    let u = |k: &str| s[k].as_u64().unwrap() as usize;
    let sched = CosineSchedule::new(
        s["base"].as_f64().unwrap(),
        s["final"].as_f64().unwrap(),
        s["start"].as_f64().unwrap(),
        Phases {
            total: u("total"),
            warmup: u("warmup"),
            freeze: u("freeze"),
            hold: u("hold"),
        },
    )
    .unwrap();
    assert_eq!(sched.len(), 20);
    // Indices 20..22 are past the end and return the final value.
    let got: Vec<f64> = (0..23).map(|i| sched.at(i)).collect();
    assert_close("small", &got, &f64s(&s["values"]), 0.0, 1e-12);
    assert_eq!(&got[..3], &[0.0, 0.0, 0.0], "freeze zeros");
    assert_eq!(got[3], 0.01, "warm-up starts at start");
    assert_eq!(got[7], 1.0, "warm-up ends at base (inclusive linspace)");
}

#[test]
fn stage_schedules_match_numpy_at_selected_iterations() {
    let f = fixture("schedules.json");
    let s = &f["stage"];
    let sched = Schedules::new(&ScheduleConfig::panopticon_stage(
        s["base_lr"].as_f64().unwrap(),
    ))
    .unwrap();
    let its: Vec<usize> = f64s(&s["iterations"]).iter().map(|&x| x as usize).collect();
    for (name, sch) in [
        ("lr", &sched.lr),
        ("wd", &sched.wd),
        ("momentum", &sched.momentum),
        ("teacher_temp", &sched.teacher_temp),
    ] {
        let got: Vec<f64> = its.iter().map(|&i| sch.at(i)).collect();
        assert_close(name, &got, &f64s(&s[name]), 1e-18, 1e-12);
    }
    assert_eq!(sched.lr.len(), 87_500);
    assert_eq!(sched.teacher_temp.len(), 6_250);
    assert_eq!(sched.teacher_temp.at(6_250), 0.07);
    assert_eq!(sched.epoch_of(1249), 0);
    assert_eq!(sched.epoch_of(1250), 1);
}

#[test]
fn invalid_phases_are_rejected() {
    let p = Phases {
        total: 10,
        warmup: 6,
        freeze: 3,
        hold: 2,
    };
    assert!(CosineSchedule::new(1.0, 0.0, 0.0, p).is_err());
    let mut c = ScheduleConfig::panopticon_stage(1e-4);
    c.epoch_length = 0;
    assert!(Schedules::new(&c).is_err());
    assert_eq!(CosineSchedule::constant(0.5).at(123), 0.5);
}

#[test]
fn frozen_last_layer_per_iteration_and_bug_compat() {
    use panopticon_train::{FreezeEpoch, ParamGroupConfig};
    let sched = Schedules::new(&ScheduleConfig::panopticon_stage(1e-4)).unwrap();
    let cfg = ParamGroupConfig::panopticon_stage(12).unwrap();
    let last = cfg.rule("dino_head.last_layer.weight_v");
    let block = cfg.rule("backbone.blocks.11.mlp.fc1.bias");
    let it = 1249;
    let h = sched.step_hyper(&last, it, FreezeEpoch::PerIteration);
    assert_eq!(h.lr, 0.0, "frozen during epoch 0");
    assert_eq!(
        h.weight_decay,
        sched.wd.at(it),
        "wd still scheduled (lr 0 ⇒ no decay)"
    );
    let h = sched.step_hyper(&last, 1250, FreezeEpoch::PerIteration);
    assert_eq!(h.lr, sched.lr.at(1250));
    let stale = FreezeEpoch::StaleStart { start_iter: 0 };
    assert_eq!(
        sched.step_hyper(&last, 50_000, stale).lr,
        0.0,
        "upstream quirk"
    );
    let resumed = FreezeEpoch::StaleStart { start_iter: 1250 };
    assert_eq!(
        sched.step_hyper(&last, 50_000, resumed).lr,
        sched.lr.at(50_000)
    );
    let h = sched.step_hyper(&block, 3000, FreezeEpoch::PerIteration);
    assert!((h.lr - sched.lr.at(3000) * 0.9 * 0.2).abs() < 1e-18);
    assert_eq!(h.weight_decay, 0.0);
}
