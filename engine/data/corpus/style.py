"""Per-motion individuality: tempo, amplitude, posture, stance and asymmetry (`Style`), the
neutral standing track every action starts from, and the small signs of life laid over a
finished track (band-limited sway, breathing, weight shifts)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.data.corpus import body
from engine.data.corpus.curves import band_noise
from engine.data.corpus.tracks import FEET, HANDS, Track, add_rotation
from engine.motion.rotations import IDENTITY, qrot

DEG = np.pi / 180.0


@dataclass(frozen=True)
class Style:
    """How one performer moves; drawn once per motion."""

    tempo: float  # >1 is faster: durations are divided by it
    amplitude: float  # scales gesture and swing sizes
    stance: float  # half the distance between the feet, m
    toe_out: float  # rad
    knee_bend: float  # extra knee flexion when standing, rad
    slouch: float  # trunk flexion, rad
    head_tilt: float  # neck flexion, rad
    elbow: float  # resting elbow flexion, rad
    arm_abduction: float  # rad
    asymmetry: float  # right side's amplitude relative to the left
    energy: float  # 0..1: how much idle sway and noise
    handedness: int  # 0 = left-handed, 1 = right-handed (sides of one-handed gestures)

    def amp(self, side: int) -> float:
        """Amplitude factor of one side (0 left, 1 right)."""
        return self.amplitude * (self.asymmetry if side == 1 else 1.0)


def sample_style(rng: np.random.Generator) -> Style:
    return Style(
        tempo=float(rng.uniform(0.85, 1.18)),
        amplitude=float(rng.uniform(0.8, 1.2)),
        stance=float(rng.uniform(0.08, 0.14)),
        toe_out=float(rng.uniform(3, 13) * DEG),
        knee_bend=float(rng.uniform(0, 8) * DEG),
        slouch=float(rng.uniform(-3, 9) * DEG),
        head_tilt=float(rng.uniform(-6, 12) * DEG),
        elbow=float(rng.uniform(8, 25) * DEG),
        arm_abduction=float(rng.uniform(5, 12) * DEG),
        asymmetry=float(rng.uniform(0.85, 1.15)),
        energy=float(rng.uniform(0.2, 1.0)),
        handedness=int(rng.random() < 0.88),
    )


def rest_arms(style: Style) -> np.ndarray:
    """Hanging arm directions (2 sides, upper/fore, 3) for this performer."""
    arms = np.zeros((2, 2, 3))
    for side in (0, 1):
        arms[side, 0] = body.limb(side, 3 * DEG, style.arm_abduction)
        arms[side, 1] = body.limb(side, style.elbow, style.arm_abduction * 0.6)
    return arms


def neutral_track(frames: int, style: Style) -> Track:
    """Standing relaxed: feet planted under the hips, arms hanging, the performer's posture."""
    n = frames
    rot = body.identity_rotations(n)
    for joint, share in ((body.SPINE1, 0.3), (body.SPINE2, 0.35), (body.SPINE3, 0.35)):
        rot[:, joint] = body.body_rotation(flex=style.slouch * share)
    rot[:, body.NECK] = body.body_rotation(flex=style.head_tilt)
    home = np.zeros((n, 4, 3))
    for side, effector in enumerate(FEET):
        home[:, effector] = [body.SIDE_SIGN[side] * style.stance, body.TOE_HEIGHT, 0.12]
    for side, effector in enumerate(HANDS):
        home[:, effector] = [body.SIDE_SIGN[side] * 0.25, 0.9, 0.0]
    knee = style.knee_bend + 8 * DEG
    height = body.HIP_DROP + min(body.leg_length(np.degrees(knee), s) for s in (0, 1))
    contact = np.zeros((n, 4), bool)
    contact[:, list(FEET)] = True
    return Track(
        vel=np.zeros((n, 2)),
        yaw_rate=np.zeros(n),
        height=np.full(n, height + body.ANKLE_HEIGHT),
        shift=np.zeros((n, 2)),
        pelvis=np.broadcast_to(IDENTITY, (n, 4)).copy(),
        rot=rot,
        arms=np.broadcast_to(rest_arms(style), (n, 2, 2, 3)).copy(),
        chest=np.zeros((n, 2, 3)),
        chest_w=np.zeros((n, 2)),
        arm_use=np.zeros((n, 2)),
        contact=contact,
        home=home,
        free=home.copy(),
        free_w=np.zeros((n, 4)),
        swing=np.full((n, 4), 0.07),
        kick=np.zeros((n, 4)),
        restep=np.ones(n, bool),
        foot_yaw=np.broadcast_to([style.toe_out, -style.toe_out], (n, 2)).copy(),
        pitch=np.full((n, 2), body.FOOT_PITCH),
        raise_max=np.full((n, 2), 12 * DEG),
        push=np.zeros((n, 2)),
        pivot=np.zeros((n, 2)),
    )


def add_life(track: Track, style: Style, rng: np.random.Generator, fps: float) -> None:
    """Lay band-limited sway (1–3°, 0.2–1 Hz) on trunk, neck and arms, breathing in the
    chest, and slow weight shifts while standing, in place."""
    n = track.frames
    energy = 0.5 + style.energy
    noise = band_noise(rng, n, fps, 0.2, 1.0, size=9) * DEG * energy
    for k, joint in enumerate((body.SPINE1, body.SPINE2, body.SPINE3)):
        add_rotation(
            track,
            joint,
            body.body_rotation(noise[:, k] * 0.8, noise[:, 3 + k] * 0.6, noise[:, 6 + k] * 0.8),
        )
    neck = band_noise(rng, n, fps, 0.15, 0.8, size=3) * DEG * energy
    add_rotation(
        track, body.NECK, body.body_rotation(2.5 * neck[:, 0], 1.5 * neck[:, 1], 3 * neck[:, 2])
    )
    t = np.arange(n) / fps
    breath = np.sin(2 * np.pi * rng.uniform(0.2, 0.33) * t + rng.uniform(0, 2 * np.pi))
    add_rotation(track, body.SPINE3, body.body_rotation(flex=-0.8 * DEG * breath))
    for joint in (body.L_COLLAR, body.R_COLLAR):
        add_rotation(
            track, joint, body.qz(body.SIDE_SIGN[joint - body.L_COLLAR] * 0.6 * DEG * breath)
        )
    arm_noise = band_noise(rng, n, fps, 0.2, 0.9, size=8).reshape(n, 2, 2, 2) * 2.0 * DEG * energy
    track.arms = qrot(body.body_rotation(arm_noise[..., 0], arm_noise[..., 1]), track.arms)
    speed = np.linalg.norm(track.vel, axis=1) + np.abs(track.yaw_rate) * 0.3
    idle = np.clip(1.0 - speed / 0.3, 0.0, 1.0)
    sway = band_noise(rng, n, fps, 0.08, 0.3, size=2) * 0.012 * energy
    track.shift += idle[:, None] * sway
