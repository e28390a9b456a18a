//! Per-parameter LR/WD multipliers and freeze epochs (spec §3.8).
//!
//! Names are PyTorch names with the student sub-module prefix (`backbone.blocks.3.attn.qkv.weight`,
//! `dino_head.last_layer.weight_g`); [`torch_param_name`] turns a Burn parameter path into one.

use regex::Regex;

use crate::error::{Result, TrainError};

/// Upstream `get_vit_lr_decay_rate`: `decay^(num_layers + 1 − layer_id)` where `layer_id` is 0
/// for embeddings/tokens, `i + 1` for `blocks.i.…` and `num_layers + 1` otherwise.
///
/// Only names starting with `backbone` (or any name when `force_is_backbone`) get a layer id
/// below `num_layers + 1`. With `chunked_blocks` the `.blocks.` branch still reads the
/// *chunk* index, reproducing upstream's quirk (spec §8 #16).
pub fn vit_lr_decay_rate(
    name: &str,
    lr_decay_rate: f64,
    num_layers: usize,
    force_is_backbone: bool,
    chunked_blocks: bool,
) -> f64 {
    let mut layer_id = num_layers + 1;
    if name.starts_with("backbone") || force_is_backbone {
        let block_index = |from: &str, field: usize| -> Option<usize> {
            let start = name.find(from)?;
            name[start..].split('.').nth(field)?.parse().ok()
        };
        let embeds = [
            "pos_embed",
            "patch_embed",
            "mask_token",
            "cls_token",
            "register_tokens",
        ];
        if embeds.iter().any(|e| name.contains(&format!(".{e}")))
            || (force_is_backbone && embeds.iter().any(|e| name.contains(e)))
        {
            layer_id = 0;
        } else if name.contains(".blocks.") && !name.contains(".residual.") {
            layer_id = block_index(".blocks.", 2).map_or(layer_id, |i| i + 1);
        } else if chunked_blocks && name.contains("blocks.") && !name.contains("residual.") {
            layer_id = block_index("blocks.", 2).map_or(layer_id, |i| i + 1);
        } else if name.contains("blocks.") && !name.contains("residual.") {
            layer_id = block_index("blocks.", 1).map_or(layer_id, |i| i + 1);
        }
    }
    // powf is libm pow, like Python `**` on floats (powi may differ in the last ulp).
    lr_decay_rate.powf((num_layers + 1 - layer_id.min(num_layers + 1)) as f64)
}

/// `regex=number` rules of `optim.lr_multiplier` / `optim.freeze_weights`.
#[derive(Debug, Clone)]
pub struct RegexRules {
    rules: Vec<(Regex, f64)>,
}

impl RegexRules {
    /// Parses `"regex=number,regex=number"` (empty string → no rules).
    pub fn parse(key: &'static str, spec: &str) -> Result<Self> {
        let mut rules = Vec::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let err = |reason: String| TrainError::RuleString {
                key,
                entry: entry.to_string(),
                reason,
            };
            let (pat, val) = entry
                .rsplit_once('=')
                .ok_or_else(|| err("missing `=`".into()))?;
            let re = Regex::new(pat).map_err(|e| err(e.to_string()))?;
            let v: f64 = val.trim().parse().map_err(|e| err(format!("{e}")))?;
            rules.push((re, v));
        }
        Ok(Self { rules })
    }

    /// Values of every rule whose regex matches `name` anywhere (`re.search`), in order.
    pub fn matches<'a>(&'a self, name: &'a str) -> impl Iterator<Item = f64> + 'a {
        self.rules
            .iter()
            .filter(move |(re, _)| re.is_match(name))
            .map(|(_, v)| *v)
    }
}

/// What one parameter gets: multipliers applied to the scheduled LR and WD, and the number
/// of epochs its LR stays 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamRule {
    /// Layer-wise decay × every matching `optim.lr_multiplier` factor.
    pub lr_mult: f64,
    /// 0 for biases, norms and LayerScale gammas; 1 otherwise.
    pub wd_mult: f64,
    /// From `optim.freeze_weights` (last match wins; 0 if none).
    pub freeze_epochs: usize,
}

/// The parameter-group rules of a run.
#[derive(Debug, Clone)]
pub struct ParamGroupConfig {
    /// `optim.layerwise_decay`.
    pub layerwise_decay: f64,
    /// Backbone depth (`n_blocks` for `backbone.*`; heads use 0).
    pub n_blocks: usize,
    /// Parsed `optim.lr_multiplier`.
    pub lr_multiplier: RegexRules,
    /// Parsed `optim.freeze_weights`.
    pub freeze_weights: RegexRules,
    /// Whether the backbone has block chunks (parser quirk; false for the release).
    pub chunked_blocks: bool,
}

impl ParamGroupConfig {
    /// Builds the rules from the config strings.
    pub fn new(
        layerwise_decay: f64,
        n_blocks: usize,
        lr_multiplier: &str,
        freeze_weights: &str,
    ) -> Result<Self> {
        if !(layerwise_decay > 0.0 && layerwise_decay <= 1.0) {
            return Err(TrainError::Config {
                key: "optim.layerwise_decay",
                value: layerwise_decay.to_string(),
                hint: "use a value in (0, 1]",
            });
        }
        Ok(Self {
            layerwise_decay,
            n_blocks,
            lr_multiplier: RegexRules::parse("optim.lr_multiplier", lr_multiplier)?,
            freeze_weights: RegexRules::parse("optim.freeze_weights", freeze_weights)?,
            chunked_blocks: false,
        })
    }

    /// Panopticon stage configs: decay 0.9, `blocks=0.2`, `last_layer=1`.
    pub fn panopticon_stage(n_blocks: usize) -> Result<Self> {
        Self::new(0.9, n_blocks, "blocks=0.2", "last_layer=1")
    }

    /// The rule of one prefixed PyTorch name (`backbone.…`, `dino_head.…`, `ibot_head.…`).
    pub fn rule(&self, name: &str) -> ParamRule {
        let n_blocks = if name.starts_with("backbone.") {
            self.n_blocks
        } else {
            0
        };
        let mut lr_mult = vit_lr_decay_rate(
            name,
            self.layerwise_decay,
            n_blocks,
            n_blocks > 0,
            self.chunked_blocks,
        );
        for f in self.lr_multiplier.matches(name) {
            lr_mult *= f;
        }
        let wd_mult = if name.ends_with(".bias") || name.contains("norm") || name.contains("gamma")
        {
            0.0
        } else {
            1.0
        };
        let freeze_epochs = self
            .freeze_weights
            .matches(name)
            .last()
            .map_or(0, |e| e as usize);
        ParamRule {
            lr_mult,
            wd_mult,
            freeze_epochs,
        }
    }
}

/// Turns a Burn parameter path of a student sub-module into upstream's prefixed PyTorch name:
/// drops enum-variant segments, maps LayerNorm `gamma`/`beta` to `weight`/`bias` and the DINO
/// head's `mlp.{0,1,2}` to `mlp.{0,2,4}` (GELUs sit at the odd PyTorch indices).
pub fn torch_param_name(prefix: &str, burn_path: &str) -> String {
    let segs: Vec<String> = burn_path
        .split('.')
        .filter(|s| {
            !(s.chars().next().is_some_and(char::is_uppercase) && s.chars().any(char::is_lowercase))
        })
        .map(str::to_string)
        .collect();
    let mut segs = segs;
    let n = segs.len();
    if n >= 2 {
        let owner = segs[n - 2].clone();
        if owner.starts_with("norm") || owner == "layer_norm" {
            if segs[n - 1] == "gamma" {
                segs[n - 1] = "weight".into();
            } else if segs[n - 1] == "beta" {
                segs[n - 1] = "bias".into();
            }
        }
    }
    let head_mlp_index = segs.get(1).and_then(|s| s.parse::<usize>().ok());
    if let (true, Some(i)) = (
        prefix.ends_with("head") && segs.first().is_some_and(|s| s == "mlp"),
        head_mlp_index,
    ) {
        segs[1] = (2 * i).to_string();
    }
    format!("{prefix}.{}", segs.join("."))
}
