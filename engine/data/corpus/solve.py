"""From a `Track` to joint positions: root path, footfalls, pelvis height, leg and arm IK,
forward kinematics.

The pelvis height is the track's request lowered (smoothly) wherever a planted or swinging
leg could not reach its foot target, letting a planted heel rise first as people do; so
double support lowers the pelvis and a trailing foot peels off the floor on its own.
"""

from __future__ import annotations

import numpy as np

from engine.data.corpus import body
from engine.data.corpus.curves import slerp_vectors
from engine.data.corpus.locomotion import Footfalls, RootPath, integrate_root, plan_footfalls
from engine.data.corpus.tracks import FEET, HANDS, TRUNK_JOINTS, Track
from engine.motion.rotations import qmul, qrot, qyaw

SOFTMIN_M = 0.01  # sharpness of the smooth minimum between requested and reachable height
TOE_UP = np.radians(14.0)  # toes lift in mid swing
ELBOW_POLE = np.array([0.45, -0.6, -0.65])  # chest frame, left arm; elbows point down-back-out


def _softmin(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    m = np.minimum(a, b)
    return m - k * np.log(np.exp((m - a) / k) + np.exp((m - b) / k))


def _hips(root_rotation: np.ndarray, pelvis: np.ndarray) -> np.ndarray:
    """Hip joint positions (n, 2, 3) for pelvis positions with y = 0."""
    hips = [
        pelvis + qrot(root_rotation, np.broadcast_to(body.REST[j], pelvis.shape)) for j in body.HIP
    ]
    return np.stack(hips, axis=1)


def _ankle(toe: np.ndarray, yaw: np.ndarray, pitch: np.ndarray, side: int) -> np.ndarray:
    """Ankle positions (n, 3) of one foot from its toe points, headings and pitches."""
    return toe - body.foot_direction(yaw, pitch) * body.FOOT[side]


def _max_height(hip: np.ndarray, ankle: np.ndarray, reach: float) -> np.ndarray:
    """Highest pelvis (n,) at which a hip (with y relative to the pelvis) reaches the ankle."""
    dxz2 = ((hip - ankle)[..., [0, 2]] ** 2).sum(-1)
    return ankle[..., 1] - hip[..., 1] + np.sqrt(np.maximum(reach * reach - dxz2, 0.0))


def _heel_raise_allowed(track: Track, falls: Footfalls, hips: np.ndarray) -> np.ndarray:
    """Extra heel raise (n, 2) a planted foot may take to let its leg reach: up to the
    track's limit for a foot well behind its hip, none for a foot under or ahead of it."""
    allowed = np.zeros((track.frames, 2))
    for e in FEET:
        _, forward = body.heading_vectors(falls.yaw[:, e])
        behind = ((hips[:, e] - falls.target[:, e]) * forward).sum(-1) + 0.9 * body.FOOT[e]
        share = np.clip(behind / 0.15, 0.0, 1.0)
        limit = (track.raise_max[:, e] - track.push[:, e]).clip(0)
        allowed[:, e] = limit * share * falls.contact[:, e]
    return allowed


def _landing_frames(falls: Footfalls, n: int) -> np.ndarray:
    """(n, 2) the second half of each swing that lands: where a swinging foot's target
    must be within reach so that it touches down where planned."""
    mask = np.zeros((n, 2), bool)
    for swing in falls.swings:
        if swing.effector in FEET and swing.land < n:
            mask[(swing.lift + swing.land) // 2 : swing.land, swing.effector] = True
    return mask


def solve_heights(
    track: Track, falls: Footfalls, hips: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pelvis heights (n,) and foot pitches (n, 2) after heel raises.

    `hips` are hip positions for a pelvis on the floor (so their y is the hip's offset)."""
    n = track.frames
    base_pitch = track.pitch - track.push
    limit = np.full(n, np.inf)
    grid = np.linspace(0.0, 1.0, 6)
    allowed = _heel_raise_allowed(track, falls, hips)
    landing = _landing_frames(falls, n)
    for e in FEET:
        reach = body.LEG_REACH[e]
        planted = falls.contact[:, e]
        swinging = landing[:, e] & (falls.free_w[:, e] < 0.5)
        toe = falls.target[:, e]
        best = np.full(n, -np.inf)
        for g in grid:
            lift = allowed[:, e] * g
            ankle = _ankle(toe, falls.yaw[:, e], base_pitch[:, e] - lift, e)
            best = np.maximum(best, _max_height(hips[:, e], ankle, reach))
        limit = np.where(planted | swinging, np.minimum(limit, best), limit)
    height = np.where(np.isfinite(limit), _softmin(track.height, limit, SOFTMIN_M), track.height)
    pitch = base_pitch.copy()
    for e in FEET:
        planted = falls.contact[:, e]
        hip = hips[:, e] + np.array([0.0, 1.0, 0.0]) * height[:, None]
        # smallest extra heel raise that lets the leg reach (bisection), planted feet only
        lo = np.zeros(n)
        hi = allowed[:, e]

        def too_far(extra, e=e, hip=hip):
            ankle = _ankle(falls.target[:, e], falls.yaw[:, e], base_pitch[:, e] - extra, e)
            return np.linalg.norm(hip - ankle, axis=-1) > body.LEG_REACH[e]

        need = too_far(lo)
        for _ in range(14):
            mid = (lo + hi) / 2
            far = too_far(mid)
            lo = np.where(need & far, mid, lo)
            hi = np.where(need & ~far, mid, hi)
        pitch[:, e] = np.where(need, base_pitch[:, e] - hi, base_pitch[:, e])
    _swing_pitch(track, falls, pitch)
    return height, pitch


def _swing_pitch(track: Track, falls: Footfalls, pitch: np.ndarray) -> None:
    """Foot pitch through each swing: from lift-off to landing with toes up mid-way, and
    the action's own pitch where it drives the foot."""
    n = track.frames
    for swing in falls.swings:
        e, a, b = swing.effector, swing.lift, swing.land
        if e not in FEET:
            continue
        start = pitch[a - 1, e] if a > 0 else track.pitch[a, e]
        end = track.pitch[b, e] if b < n else track.pitch[-1, e]
        s = np.linspace(0, 1, b - a + 2)[1:-1] if b < n else np.linspace(0, 0.5, b - a + 1)[1:]
        m = s * s * (3 - 2 * s)
        pitch[a:b, e] = start * (1 - m) + end * m + TOE_UP * np.sin(np.pi * s) ** 2
    w = falls.free_w[:, FEET]
    pitch[:] = np.where(falls.contact[:, FEET], pitch, pitch * (1 - w) + track.pitch * w)


def solve(track: Track, fps: float) -> np.ndarray:
    """Joint positions (n, 22, 3), metres, floor at y = 0."""
    path: RootPath = integrate_root(track, fps)
    falls = plan_footfalls(track, path, fps)
    n = track.frames
    root_rotation = qmul(qyaw(path.heading), track.pelvis)
    hips = _hips(root_rotation, path.pelvis)
    height, pitch = solve_heights(track, falls, hips)
    # a foot the action drives by joint angles hangs from the hip: follow the pelvis down
    # where the planted leg made it lower than requested
    # where the planted leg made it lower than requested; no toe goes through the floor
    drop = (falls.free_w[:, FEET] * (height - track.height)[:, None]).clip(max=0)
    falls.target[:, FEET, 1] = (falls.target[:, FEET, 1] + drop).clip(min=body.TOE_HEIGHT)
    root = path.pelvis + np.array([0.0, 1.0, 0.0]) * height[:, None]

    local = body.identity_rotations(n)
    for joint in TRUNK_JOINTS:
        local[:, joint] = track.rot[:, joint]
    pos, glob = body.forward_kinematics(root_rotation, local, root)

    # legs: IK to the ankle targets, knees towards the feet's heading
    for side in (0, 1):
        hip_j, knee_j, ankle_j, toe_j = (
            body.HIP[side],
            body.KNEE[side],
            body.ANKLE[side],
            body.TOE[side],
        )
        foot_dir = body.foot_direction(falls.yaw[:, side], pitch[:, side])
        ankle_target = _ankle(falls.target[:, side], falls.yaw[:, side], pitch[:, side], side)
        _, forward = body.heading_vectors(falls.yaw[:, side])
        _, facing = body.heading_vectors(path.heading)
        knee, ankle = body.two_bone_ik(
            pos[:, hip_j], ankle_target, body.THIGH[side], body.SHANK[side], forward + facing
        )
        local[:, hip_j] = body.local_swing(glob[:, body.PELVIS], knee_j, knee - pos[:, hip_j])
        g_hip = qmul(glob[:, body.PELVIS], local[:, hip_j])
        local[:, knee_j] = body.local_swing(g_hip, ankle_j, ankle - knee)
        g_knee = qmul(g_hip, local[:, knee_j])
        local[:, ankle_j] = body.local_swing(g_knee, toe_j, foot_dir)

    # arms: the track's directions, pulled towards IK targets by their weights
    chest_rot, chest_pos = glob[:, body.SPINE3], pos[:, body.SPINE3]
    for side in (0, 1):
        collar, shoulder, elbow, wrist = (
            body.COLLAR[side],
            body.SHOULDER[side],
            body.ELBOW[side],
            body.WRIST[side],
        )
        upper = qrot(chest_rot, track.arms[:, side, 0])
        fore = qrot(chest_rot, track.arms[:, side, 1])
        hand = HANDS[side]
        w_world = falls.weight[:, hand]
        w_chest = track.chest_w[:, side]
        weight = np.clip(w_world + w_chest, 0.0, 1.0)
        if weight.max() > 0:
            chest_target = chest_pos + qrot(chest_rot, track.chest[:, side])
            mix = (w_world / np.maximum(w_world + w_chest, 1e-9))[:, None]
            target = falls.target[:, hand] * mix + chest_target * (1 - mix)
            pole = qrot(chest_rot, ELBOW_POLE * [body.SIDE_SIGN[side], 1.0, 1.0])
            mid, end = body.two_bone_ik(
                pos[:, shoulder], target, body.UPPER_ARM[side], body.FOREARM[side], pole
            )
            upper = slerp_vectors(upper, body.normalize(mid - pos[:, shoulder]), weight)
            fore = slerp_vectors(fore, body.normalize(end - mid), weight)
        g_collar = glob[:, collar]
        local[:, shoulder] = body.local_swing(g_collar, elbow, upper)
        g_shoulder = qmul(g_collar, local[:, shoulder])
        local[:, elbow] = body.local_swing(g_shoulder, wrist, fore)

    joints, _ = body.forward_kinematics(root_rotation, local, root)
    return joints
