import numpy as np

from certbot.nlu.batched_classifiers import output_row


def test_a_row_of_a_batch_output_is_shaped_as_one_message_output():
    output = {
        "i_scores": np.arange(6.0).reshape(3, 2),
        "diagnostic_data": {"text_transformed": np.zeros((3, 5, 4)), "attention_weights": None},
        "a_scalar": np.float32(1.0),
    }
    row = output_row(output, 1, 3)
    np.testing.assert_array_equal(row["i_scores"], [[2.0, 3.0]])
    assert row["diagnostic_data"]["text_transformed"].shape == (1, 5, 4)
    assert row["diagnostic_data"]["attention_weights"] is None
    assert row["a_scalar"] == 1.0


def test_arrays_not_of_the_batch_are_kept_whole():
    kept = np.zeros((4, 2))
    assert output_row({"other": kept}, 0, 3)["other"] is kept
