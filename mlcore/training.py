"""TensorFlow training code. Imported only by HybridRecommender.fit(), never while serving."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .model import ModelConfig


def _setup_tf(seed: int):  # noqa: ANN202 - returns the tf module
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    # Same seed, same data -> same weights (slightly slower kernels; worth it for tests/audits).
    tf.config.experimental.enable_op_determinism()
    return tf


@dataclass
class TowerWeights:
    user_emb: np.ndarray  # n_users x d
    item_emb: np.ndarray  # n_items x d (id part only)
    item_bias: np.ndarray  # n_items
    ctx_proj: np.ndarray  # ctx_dim x d
    content_w: np.ndarray  # content_dim x d
    content_b: np.ndarray  # d
    epochs: int


def train_towers(
    cfg: ModelConfig,
    n_users: int,
    n_items: int,
    content: np.ndarray,
    users: np.ndarray,
    items: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    ctx_ids: np.ndarray,
    ctx_table: np.ndarray,
    epochs: int | None = None,
) -> TowerWeights:
    """Two towers, dot-product logit + item bias, BCE on positives and (sampled) negatives.

    ``epochs`` given -> train exactly that long without validation (the refit on all data);
    otherwise early-stop on a held-out ``validation_frac`` of the shuffled samples.
    """
    tf = _setup_tf(cfg.seed)
    keras = tf.keras
    layers = keras.layers
    d = cfg.embedding_dim
    reg = keras.regularizers.L2(cfg.l2) if cfg.l2 > 0 else None
    u_in = keras.Input(shape=(), dtype="int32", name="user")
    i_in = keras.Input(shape=(), dtype="int32", name="item")
    c_in = keras.Input(shape=(), dtype="int32", name="context")
    init = keras.initializers.RandomNormal(stddev=0.05, seed=cfg.seed)
    u_vec = layers.Embedding(
        n_users, d, embeddings_initializer=init, embeddings_regularizer=reg, name="user_emb"
    )(u_in)
    # Contexts come as pattern ids into a constant table of one-hot rows (most samples have
    # none): a dense samples x slots matrix would take gigabytes at millions of interactions.
    c_vec = layers.Embedding(
        len(ctx_table), ctx_table.shape[1], trainable=False, name="context_table",
        embeddings_initializer=keras.initializers.Constant(ctx_table),
    )(c_in)
    u_vec = u_vec + layers.Dense(d, use_bias=False, name="ctx_proj")(c_vec)
    i_vec = layers.Embedding(
        n_items, d, embeddings_initializer=init, embeddings_regularizer=reg, name="item_emb"
    )(i_in)
    cont = layers.Embedding(
        n_items,
        content.shape[1],
        trainable=False,
        name="content",
        embeddings_initializer=keras.initializers.Constant(content),
    )(i_in)
    i_vec = i_vec + layers.Dense(d, name="content_proj")(cont)
    bias = layers.Embedding(n_items, 1, embeddings_initializer="zeros", name="item_bias")(i_in)
    logit = keras.ops.sum(u_vec * i_vec, axis=-1) + keras.ops.squeeze(bias, -1)
    model = keras.Model([u_in, i_in, c_in], logit)
    model.compile(
        optimizer=keras.optimizers.Adam(cfg.learning_rate),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    rng = np.random.default_rng(cfg.seed)
    order = rng.permutation(len(users))
    x = [users[order].astype(np.int32), items[order].astype(np.int32), ctx_ids[order]]
    y, w = labels[order].astype(np.float32), weights[order].astype(np.float32)
    kw: dict[str, object] = {}
    if epochs is None:
        n_val = max(1, int(len(y) * cfg.validation_frac))
        kw["validation_data"] = ([a[:n_val] for a in x], y[:n_val], w[:n_val])
        x, y, w = [a[n_val:] for a in x], y[n_val:], w[n_val:]
        kw["callbacks"] = [
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=cfg.patience, restore_best_weights=True
            )
        ]
        epochs = cfg.epochs
    hist = model.fit(
        x,
        y,
        sample_weight=w,
        batch_size=cfg.batch_size,
        epochs=epochs,
        shuffle=True,
        verbose=1 if cfg.verbose else 0,
        **kw,
    )
    if "val_loss" in hist.history:
        ran = int(np.argmin(hist.history["val_loss"])) + 1
    else:
        ran = len(hist.history["loss"])
    g = model.get_layer
    return TowerWeights(
        user_emb=g("user_emb").get_weights()[0],
        item_emb=g("item_emb").get_weights()[0],
        item_bias=g("item_bias").get_weights()[0][:, 0],
        ctx_proj=g("ctx_proj").get_weights()[0],
        content_w=g("content_proj").get_weights()[0],
        content_b=g("content_proj").get_weights()[1],
        epochs=ran,
    )


def train_head(
    cfg: ModelConfig, x: np.ndarray, y: np.ndarray, groups: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Re-ranking MLP (Dense ``head_units`` -> 1 sigmoid); early stopping on a by-user split."""
    tf = _setup_tf(cfg.seed + 1)
    keras = tf.keras
    rng = np.random.default_rng(cfg.seed + 1)
    uniq = np.unique(groups)
    val_users = rng.choice(uniq, size=max(1, int(len(uniq) * 0.15)), replace=False)
    is_val = np.isin(groups, val_users)
    model = keras.Sequential(
        [
            keras.Input(shape=(x.shape[1],)),
            *[keras.layers.Dense(units, activation="relu") for units in cfg.head_units],
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(cfg.head_learning_rate), loss="binary_crossentropy"
    )
    order = rng.permutation(np.flatnonzero(~is_val))
    batch = int(np.clip(len(order) // 64, 256, 4096))  # big data: big batches; tiny: still steps
    model.fit(
        x[order],
        y[order],
        batch_size=batch,
        epochs=cfg.head_epochs,
        shuffle=True,
        validation_data=(x[is_val], y[is_val]),
        verbose=1 if cfg.verbose else 0,
        callbacks=[
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=cfg.patience, restore_best_weights=True
            )
        ],
    )
    return [(lyr.get_weights()[0], lyr.get_weights()[1]) for lyr in model.layers]
