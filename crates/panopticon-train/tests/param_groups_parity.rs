//! Parameter-group rules for every ViT-B/14 Panopticon + DINO-head parameter against the
//! upstream transcription in `scripts/gen_train_fixtures.py` (lr multiplier 1e-12 relative,
//! wd multiplier and freeze epochs exact), and Burn-path → PyTorch-name mapping on the real
//! model.

mod common;

use std::collections::BTreeSet;

use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::*;
use common::*;
use panopticon_model::{DinoHeadConfig, PanopticonConfig};
use panopticon_train::{ParamGroupConfig, torch_param_name, vit_lr_decay_rate};

#[test]
fn rules_match_upstream_for_all_vitb14_names() {
    let f = fixture("param_groups.json");
    let names: Vec<&str> = f["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 191);
    for (cname, c) in f["configs"].as_object().unwrap() {
        let cfg = ParamGroupConfig::new(
            0.9,
            12,
            c["lr_multiplier"].as_str().unwrap(),
            c["freeze_weights"].as_str().unwrap(),
        )
        .unwrap();
        let rules: Vec<_> = names.iter().map(|n| cfg.rule(n)).collect();
        let lr: Vec<f64> = rules.iter().map(|r| r.lr_mult).collect();
        let wd: Vec<f64> = rules.iter().map(|r| r.wd_mult).collect();
        let fr: Vec<f64> = rules.iter().map(|r| r.freeze_epochs as f64).collect();
        assert_close(
            &format!("{cname} lr_mult"),
            &lr,
            &f64s(&c["lr_mult"]),
            0.0,
            1e-12,
        );
        assert_close(
            &format!("{cname} wd_mult"),
            &wd,
            &f64s(&c["wd_mult"]),
            0.0,
            0.0,
        );
        assert_close(
            &format!("{cname} freeze"),
            &fr,
            &f64s(&c["freeze_epochs"]),
            0.0,
            0.0,
        );
    }
}

#[test]
fn stage_rules_spot_checks() {
    let cfg = ParamGroupConfig::panopticon_stage(12).unwrap();
    let r = cfg.rule("backbone.blocks.11.attn.qkv.weight");
    assert!((r.lr_mult - 0.9 * 0.2).abs() < 1e-15 && r.wd_mult == 1.0);
    let r = cfg.rule("backbone.patch_embed.chnfus.query");
    assert!((r.lr_mult - 0.9f64.powi(13)).abs() < 1e-12 && r.wd_mult == 1.0);
    assert_eq!(cfg.rule("backbone.norm.weight").lr_mult, 1.0);
    assert_eq!(cfg.rule("backbone.blocks.0.ls1.gamma").wd_mult, 0.0);
    let ll = cfg.rule("dino_head.last_layer.weight_g");
    assert_eq!((ll.lr_mult, ll.wd_mult, ll.freeze_epochs), (1.0, 1.0, 1));
    // Block-chunk quirk: the chunk index is read, not the block index.
    assert_eq!(
        vit_lr_decay_rate("backbone.blocks.0.5.mlp.fc1.weight", 0.5, 12, true, true),
        0.5f64.powi(12)
    );
}

#[test]
fn bad_rule_strings_are_rejected() {
    assert!(ParamGroupConfig::new(0.9, 12, "blocks", "").is_err());
    assert!(ParamGroupConfig::new(0.9, 12, "(=0.2", "").is_err());
    assert!(ParamGroupConfig::new(0.9, 12, "blocks=x", "").is_err());
    assert!(ParamGroupConfig::new(0.0, 12, "", "").is_err());
}

/// Burn paths of every float parameter.
struct Paths(Vec<String>, Vec<String>);

impl ModuleVisitor for Paths {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.1.push(name.to_string());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.1.pop();
    }
    fn visit_float<const D: usize>(&mut self, _: &Param<Tensor<D>>) {
        self.0.push(self.1.join("."));
    }
}

#[test]
fn burn_paths_of_the_real_model_map_to_the_upstream_names() {
    let f = fixture("param_groups.json");
    let want: BTreeSet<String> = f["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    let dev = Device::default();
    let model = PanopticonConfig::vitb14().init(&dev).unwrap();
    let head = DinoHeadConfig::new(768).init(&dev).unwrap();
    let mut got = BTreeSet::new();
    for (prefix, paths) in [("backbone", collect(&model)), ("dino_head", collect(&head))] {
        for p in paths {
            got.insert(torch_param_name(prefix, &p));
        }
    }
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
}

fn collect<M: Module>(m: &M) -> Vec<String> {
    let mut v = Paths(Vec::new(), Vec::new());
    m.visit(&mut v);
    v.0
}
