using Vigil.Core;

namespace Vigil.Core.Tests;

public class ScoreTests
{
    [Theory]
    [InlineData("INFINITY", 1_000_000)]
    [InlineData("+INFINITY", 1_000_000)]
    [InlineData("inf", 1_000_000)]
    [InlineData("-inf", -1_000_000)]
    [InlineData("-INFINITY", -1_000_000)]
    [InlineData("100", 100)]
    [InlineData("-5", -5)]
    [InlineData("5000000", 1_000_000)]
    public void Scores_parse_like_pacemaker(string text, int expected) => Assert.Equal(expected, Score.Parse(text).Value);

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("1.5")]
    public void Non_scores_are_rejected(string text) => Assert.False(Score.TryParse(text, out _));

    [Fact]
    public void Minus_infinity_beats_infinity() => Assert.Equal(Score.MinusInfinity, Score.Infinity + Score.MinusInfinity);

    [Fact]
    public void Addition_saturates_at_infinity() => Assert.Equal(Score.Infinity, new Score(999_999) + new Score(5));

    [Fact]
    public void Score_text_round_trips()
    {
        foreach (var v in new[] { -1_000_000, -7, 0, 42, 1_000_000 })
            Assert.Equal(v, Score.Parse(new Score(v).ToString()).Value);
    }
}
